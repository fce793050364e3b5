"""The forms of delegation and assignment: the referral of a work order (a mediator
directly, or delegation to an organisation), the court's delegating again or
assigning a mediator, the organisation admin's dispatch, the mediator's answer.

Mediator choices offer only assignable mediators (`mediation.roster`), recommended
first for the dispute's cause of action, each labelled with why (specialty, open
cases). Without JavaScript: a referral sent without a mediator comes back with the
choices ranked for the cause just typed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mediation import roster
from mediation.models import MediationOrganisation, User


class RecommendedMediatorField(forms.ModelChoiceField):
    """A mediator, the options in the order of the recommendations with their reasons."""

    def __init__(self, *args, **kwargs):
        self.reasons: dict[int, str] = {}
        self.chosen_by_applicant: int | None = None
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        profile = roster.profile_of(obj)
        parts = [str(obj)]
        if profile is not None:
            parts.append(str(profile.organisation))
        if obj.pk == self.chosen_by_applicant:
            parts.append(gettext("chosen by the applicant"))
        if obj.pk in self.reasons:
            parts.append(self.reasons[obj.pk])
        return " · ".join(parts)


def rank_mediators(field: RecommendedMediatorField, cause: str, *, organisation=None) -> list[roster.Recommendation]:
    """Offer the assignable mediators (of `organisation`, if given), recommended first
    for `cause`, each with its reasons; the recommendations. What is accepted stays
    the queryset (the roster's rule, in SQL); the choices only order and label it."""
    assignable = roster.assignable_mediators(organisation=organisation)
    field.queryset = assignable
    recommendations = roster.recommend_mediators(cause, organisation=organisation, limit=assignable.count() or 1)
    field.reasons = {r.mediator.pk: "; ".join(r.reasons) for r in recommendations}
    field.choices = [("", field.empty_label)] + [
        (r.mediator.pk, field.label_from_instance(r.mediator)) for r in recommendations
    ]
    return recommendations


def recommendation_notice(recommendations: list[roster.Recommendation], cause: str) -> str:
    top = recommendations[:3]
    if not top:
        return gettext("No mediator can be assigned now.")
    names = "; ".join(f"{r.mediator} ({', '.join(r.reasons)})" for r in top)
    if cause:
        return gettext("Recommended for %(cause)s: %(names)s.") % {"cause": cause, "names": names}
    return gettext("Recommended (type the cause of action and send the form to rank for it): %(names)s.") % {
        "names": names
    }


def active_organisations():
    return MediationOrganisation.objects.filter(is_active=True).order_by("name", "pk")


class ReferralForm(forms.Form):
    """Refer a work order to mediation: to a mediator directly, or delegated to a
    mediation organisation of the roster."""

    HOW_CHOICES = [
        ("mediator", _("To a mediator directly")),
        ("delegate", _("Delegate to a mediation organisation")),
    ]

    # Not required: an API client that names a mediator, as before, refers to them.
    how = forms.ChoiceField(
        label=_("How"), choices=HOW_CHOICES, initial="mediator", widget=forms.RadioSelect, required=False
    )
    mediator = RecommendedMediatorField(label=_("Mediator"), queryset=User.objects.none(), required=False)
    organisation = forms.ModelChoiceField(
        label=_("Mediation organisation"),
        queryset=MediationOrganisation.objects.none(),
        required=False,
        help_text=_(
            "Its administrator dispatches the case to one of its mediators, who accepts it within 2 working days."
        ),
    )
    cause_of_action = forms.CharField(label=_("Cause of action"), max_length=100, help_text=_("For example 合同纠纷"))
    claim_amount = forms.DecimalField(
        label=_("Claim amount (yuan)"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    facts = forms.CharField(
        label=_("Facts and claims"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_(
            "The parties read this on their case page and in the agreement. The work order's "
            "own note stays with court staff."
        ),
    )

    def __init__(self, *args, order=None, **kwargs):
        self.preferred = preferred_mediator_of(order)
        if self.preferred is not None and roster.assignment_refusal(self.preferred) is None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {**kwargs["initial"], "mediator": self.preferred.pk}
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = active_organisations()
        cause = ""
        if self.is_bound:
            cause = str(self.data.get(self.add_prefix("cause_of_action"), "")).strip()[:100]
        field = self.fields["mediator"]
        if self.preferred is not None:
            field.chosen_by_applicant = self.preferred.pk
        self.recommendations = rank_mediators(field, cause)
        if self.preferred is not None:
            refusal = roster.assignment_refusal(self.preferred)
            field.help_text = (
                gettext("The applicant chose %(name)s: preselected.") % {"name": self.preferred}
                if refusal is None
                else gettext("The applicant chose %(name)s, who cannot be assigned now: %(reason)s")
                % {"name": self.preferred, "reason": refusal}
            )
        self.notice = recommendation_notice(self.recommendations, cause)

    def clean(self):
        data = super().clean()
        data["how"] = data.get("how") or "mediator"
        if data.get("how") == "mediator" and not data.get("mediator") and "mediator" not in self.errors:
            self.add_error("mediator", gettext("Choose a mediator: the list is now ranked for this cause of action."))
        if data.get("how") == "delegate" and not data.get("organisation") and "organisation" not in self.errors:
            self.add_error("organisation", gettext("Choose the organisation to delegate the case to."))
        return data


def preferred_mediator_of(order) -> User | None:
    """The mediator the applicant chose on /apply/, if the order came from an application."""
    if order is None:
        return None
    try:
        application = order.application
    except ObjectDoesNotExist:
        return None
    profile = application.preferred_mediator
    return profile.user if profile else None


class DelegateAgainForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Mediation organisation"), queryset=MediationOrganisation.objects.none()
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = active_organisations()


class AssignMediatorForm(forms.Form):
    mediator = RecommendedMediatorField(label=_("Mediator"), queryset=User.objects.none())

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.recommendations = rank_mediators(self.fields["mediator"], case.cause_of_action if case else "")


class DispatchDelegationForm(forms.Form):
    mediator = RecommendedMediatorField(label=_("Mediator"), queryset=User.objects.none())

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisation = None
        if case is not None:
            delegation = case.delegations.filter(status="awaiting_dispatch").select_related("organisation").first()
            organisation = delegation.organisation if delegation else None
        if organisation is None:
            self.recommendations = []
            return
        self.recommendations = rank_mediators(self.fields["mediator"], case.cause_of_action, organisation=organisation)


class DeclineDelegationForm(forms.Form):
    reason = forms.CharField(label=_("Why you decline"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(gettext("Say why the case is declined; the court reads it."))
        return reason
