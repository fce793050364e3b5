"""The roster's forms: they bound what a browser may send; the rules (what makes a
valid organisation, appointment or profile) are the services'
(mediation.services.roster), so that every front end agrees."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mediation import causes
from mediation.models import MediationOrganisation, MediatorProfile, User
from mediation.selectors import roster as selectors


def cause_label(cause: str) -> str:
    """The official Chinese term for a Chinese reader, its English label for others
    (a choice's text cannot mark part of itself as Chinese)."""
    if (get_language() or "").startswith("zh"):
        return cause
    return str(causes.CAUSES_OF_ACTION.get(cause, cause))


def cause_choices():
    return [(cause, cause_label(cause)) for cause in causes.CAUSES_OF_ACTION]


class _UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.full_name or user.email} ({user.email})"


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MediationOrganisation.Kind.choices)
    region = forms.CharField(
        label=_("Region"), max_length=100, help_text=_("Where it works, e.g. Chaoyang District, Beijing.")
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact telephone"), max_length=40, required=False)
    contact_email = forms.CharField(label=_("Contact email"), max_length=254, required=False)
    description = forms.CharField(
        label=_("Public description"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    is_published = forms.BooleanField(
        label=_("Published on the public roster"),
        required=False,
        help_text=_("The public roster never shows the contact person, telephone or email."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("An inactive organisation gets no cases.")
    )

    @classmethod
    def for_organisation(cls, organisation: MediationOrganisation, data=None):
        initial = {field: getattr(organisation, field) for field in cls.base_fields}
        return cls(data, initial=initial)


class ProfileForm(forms.Form):
    """What the public roster says of a mediator (the organisation's admins may edit it)."""

    title = forms.CharField(
        label=_("Title"), max_length=100, required=False, help_text=_("e.g. retired judge, lawyer, people's mediator.")
    )
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    languages = forms.CharField(
        label=_("Languages"), max_length=200, required=False, help_text=_("e.g. Mandarin, Cantonese, English.")
    )
    specialties = forms.MultipleChoiceField(
        label=_("Specialties (causes of action)"),
        choices=cause_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    biography = forms.CharField(
        label=_("Short public biography"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    fee = forms.CharField(
        label=_("Fee"),
        max_length=200,
        required=False,
        help_text=_("Only for mediators of a commercial mediation organisation."),
    )
    is_published = forms.BooleanField(label=_("Published on the public roster"), required=False, initial=True)

    @classmethod
    def for_profile(cls, profile: MediatorProfile, data=None):
        initial = {field: getattr(profile, field) for field in cls.base_fields if field != "specialties"}
        initial["specialties"] = [specialty.cause_of_action for specialty in profile.specialties.all()]
        return cls(data, initial=initial)


class AppointmentForm(forms.Form):
    """The court's decision: the organisation, the term and the status."""

    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=MediationOrganisation.objects.all())
    term_starts_on = forms.DateField(label=_("Appointed from"), widget=forms.DateInput(attrs={"type": "date"}))
    term_ends_on = forms.DateField(label=_("Appointed until"), widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Status"), choices=MediatorProfile.Status.choices, initial=MediatorProfile.Status.ACTIVE
    )
    status_reason = forms.CharField(
        label=_("Reason for the status"),
        max_length=300,
        required=False,
        help_text=_("Required when the mediator is suspended or dismissed."),
    )

    @classmethod
    def for_profile(cls, profile: MediatorProfile, data=None):
        initial = {field: getattr(profile, field) for field in cls.base_fields}
        return cls(data, initial=initial)


class AppointMediatorForm(AppointmentForm, ProfileForm):
    """A new appointment: who, the court's decision and the public profile."""

    user = _UserChoiceField(
        label=_("Mediator"),
        queryset=User.objects.none(),
        help_text=_("Members of the mediator role who are not on the roster yet."),
    )
    field_order = ["user", "organisation", "term_starts_on", "term_ends_on", "status", "status_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.appointable_users()


class OrganisationAdminForm(forms.Form):
    user = _UserChoiceField(label=_("Administrator"), queryset=User.objects.none())

    def __init__(self, *args, organisation: MediationOrganisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.admin_candidates(organisation)


class PublicRosterFilterForm(forms.Form):
    """The public roster's filters (GET). An unknown value is an error on the form,
    shown as a message; the roster then shows everyone."""

    cause = forms.ChoiceField(label=_("Cause of action"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)

    def __init__(self, *args, regions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause"].choices = [("", _("Any cause of action")), *cause_choices()]
        self.fields["region"].choices = [("", _("Any region")), *[(region, region) for region in regions]]
