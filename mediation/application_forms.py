"""The public forms of /apply/ and /apply/track/. They bound what a browser may send;
the rules (what makes a valid application) are the service's
(mediation.services.applications), so that the page and any other front end agree."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mediation.models import Application
from mediation.services.applications import LIMITS

PHONE_HELP = _("Your mobile number, e.g. 138 1234 5678; + and the country code for one abroad.")


def _code_field():
    return forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}),
    )


def _phone_field(label, *, required=True, help_text=""):
    return forms.CharField(
        label=label,
        max_length=32,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )


class ApplicationForm(forms.Form):
    phone = _phone_field(_("Mobile number"), help_text=PHONE_HELP)
    code = _code_field()
    name = forms.CharField(label=_("Your name"), max_length=LIMITS["name"], required=False)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=32,
        required=False,
        help_text=_("18 characters, as on your ID card. It is stored encrypted."),
    )
    applicant_kind = forms.ChoiceField(
        label=_("You apply"),
        choices=Application.ApplicantKind.choices,
        initial=Application.ApplicantKind.PERSON,
        required=False,
        widget=forms.RadioSelect,
    )
    organisation_name = forms.CharField(
        label=_("Company or organisation you apply for"),
        max_length=LIMITS["organisation_name"],
        required=False,
        help_text=_("Only if you apply for a company or organisation: it becomes the applicant."),
    )
    organisation_credit_code = forms.CharField(
        label=_("Its unified social credit code"), max_length=18, required=False, help_text=_("If you know it.")
    )
    respondent_kind = forms.ChoiceField(
        label=_("The other side is"),
        choices=Application.RespondentKind.choices,
        initial=Application.RespondentKind.PERSON,
        required=False,
        widget=forms.RadioSelect,
    )
    respondent_name = forms.CharField(
        label=_("The other side's name"), max_length=LIMITS["respondent_name"], required=False
    )
    respondent_phone = _phone_field(_("The other side's mobile number"), required=False, help_text=_("If you know it."))
    facts = forms.CharField(
        label=_("What happened"), max_length=LIMITS["facts"], required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    claim = forms.CharField(
        label=_("What you ask for"),
        max_length=LIMITS["claim"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = forms.CharField(
        label=_("Amount in yuan"),
        max_length=20,
        required=False,
        help_text=_("If you ask for money."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    # Checked by the service (on the public roster today?), so that a stale choice gets
    # its clear message rather than the generic "not one of the choices".
    preferred_mediator = forms.CharField(
        label=_("Mediator you would like"),
        required=False,
        max_length=12,
        help_text=_("Optional: a mediator from the court's public roster. The court decides who mediates."),
        widget=forms.Select,
    )
    consent_online_mediation = forms.BooleanField(
        label=_("I agree that the dispute is mediated online (Online Mediation Rules of the People's Courts, art. 4)."),
        required=False,
    )
    consent_electronic_service = forms.BooleanField(
        label=_("I agree that documents are served on me electronically (by text message and on this platform)."),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        from mediation.selectors.roster import public_profiles

        super().__init__(*args, **kwargs)
        self.fields["preferred_mediator"].widget.choices = [
            ("", _("No preference")),
            *[
                (str(profile.pk), f"{profile.user.full_name} · {profile.organisation.name}")
                for profile in public_profiles()
            ],
        ]


class TrackForm(forms.Form):
    phone = _phone_field(_("Mobile number"), help_text=_("The number you gave when you asked the court."))
    code = _code_field()
