from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from documents.agreement_rules import party_designation
from documents.models import Document, Service
from documents.services.agreement_content import MAX_TERMS, instalment_pairs
from mediation.forms import LOCAL_DATETIME_FORMATS, DateInput, DateTimeInput
from mediation.models import MediationCase, Participant, Party


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, PNG, JPEG or Word, at most 20 MB)"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Document.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    visibility = forms.ChoiceField(label=_("Who may see it"), choices=Document.Visibility.choices)


class ServeForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Serve on"), queryset=Participant.objects.none())
    documents = forms.ModelMultipleChoiceField(
        label=_("Documents"), queryset=Document.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    method = forms.ChoiceField(label=_("Method"), choices=Service.Method.choices)
    served_at = forms.DateTimeField(
        label=_("Served at (post or in person)"),
        required=False,
        widget=DateTimeInput(),
        input_formats=LOCAL_DATETIME_FORMATS,
    )
    evidence = forms.ModelChoiceField(
        label=_("Evidence of service (post or in person)"), queryset=Document.objects.none(), required=False
    )
    acknowledge_days = forms.IntegerField(
        label=_("Days to acknowledge (electronic)"),
        required=False,
        help_text=_("Calendar days from the date of service. The deadline is shown to the recipient beside your note."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("Shown to the recipient and on the proof of service. Leave the deadline out: it is added for you."),
    )

    def __init__(self, *args, case: MediationCase, **kwargs):
        super().__init__(*args, **kwargs)
        # Bounds from the service, which checks them too (one rule).
        from documents.services.serving import MAX_ACKNOWLEDGE_DAYS, MIN_ACKNOWLEDGE_DAYS

        self.fields["acknowledge_days"].min_value = MIN_ACKNOWLEDGE_DAYS
        self.fields["acknowledge_days"].max_value = MAX_ACKNOWLEDGE_DAYS
        self.fields["acknowledge_days"].widget.attrs.update(min=MIN_ACKNOWLEDGE_DAYS, max=MAX_ACKNOWLEDGE_DAYS)
        self.fields["acknowledge_days"].initial = settings.SERVICE_ACKNOWLEDGE_DAYS
        self.fields["recipient"].queryset = Participant.active.filter(case=case).select_related("user", "party")
        self.fields["recipient"].label_from_instance = lambda p: f"{p.user} · {p.party.name}"
        self.fields["documents"].queryset = Document.objects.filter(case=case).exclude(
            kind=Document.Kind.SERVICE_EVIDENCE
        )
        self.fields["evidence"].queryset = Document.objects.filter(case=case, kind=Document.Kind.SERVICE_EVIDENCE)


class ConsentForm(forms.Form):
    email = forms.EmailField(
        label=_("Also by email to (optional)"),
        required=False,
        help_text=_("Served documents always reach your account on this platform."),
    )
    agree = forms.BooleanField(
        label=_("I agree to receive documents of this case electronically at the addresses above."), required=True
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class TermForm(forms.Form):
    """One agreed term, a row of the drafting page. A row left untouched (kind and
    parties not chosen) is no term; what a term needs is checked by the service
    (documents.services.agreement_content.clean_terms), whose errors land on their row."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), ("payment", _("Payment")), ("act", _("Act"))])
    obligor = forms.TypedChoiceField(label=_("Who"), coerce=int, choices=())
    obligee = forms.TypedChoiceField(label=_("For whom"), coerce=int, choices=())
    amount = forms.DecimalField(label=_("Amount (yuan)"), required=False, max_digits=14, decimal_places=2, min_value=0)
    method = forms.CharField(label=_("How it is paid"), required=False, max_length=200)
    due_date = forms.DateField(label=_("By"), required=False, widget=DateInput())
    act = forms.CharField(label=_("What is to be done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, parties: list[Party] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(party.pk, party_designation(party)) for party in parties]
        self.fields["obligor"].choices = choices
        self.fields["obligee"].choices = choices


TermFormSet = formset_factory(TermForm, extra=1, can_delete=True, max_num=MAX_TERMS, validate_max=True)


class AgreementForm(forms.Form):
    facts = forms.CharField(label=_("Facts and the dispute"), widget=forms.Textarea(attrs={"rows": 5}))
    costs = forms.CharField(label=_("Costs"), widget=forms.Textarea(attrs={"rows": 2}))
    effectiveness = forms.CharField(label=_("Effect of the agreement"), widget=forms.Textarea(attrs={"rows": 2}))
    judicial_confirmation = forms.BooleanField(
        label=_("The parties will apply for judicial confirmation"), required=False
    )
    # The default and acceleration clause (违约责任、加速到期), for payments in instalments.
    default_clause = forms.BooleanField(
        label=_("Add the default and acceleration clause: if an instalment is missed, the whole balance falls due"),
        required=False,
    )
    # Whether the page offered the clause (there were instalments): unticked then is the
    # mediator's decision to leave it out, unticked before is no decision yet.
    default_clause_offered = forms.BooleanField(required=False, widget=forms.HiddenInput)
    grace_days = forms.IntegerField(label=_("Days of grace after a missed due date"), required=False, initial=0)
    penalty = forms.ChoiceField(
        label=_("Besides the balance, the debtor pays"),
        choices=[
            ("none", _("Nothing more")),
            ("interest", _("Interest on the overdue sum at a yearly rate")),
            ("fixed", _("A fixed sum (liquidated damages)")),
        ],
        initial="none",
        required=False,
    )
    penalty_rate = forms.DecimalField(
        label=_("Yearly interest rate, per cent"), required=False, max_digits=6, decimal_places=2
    )
    penalty_amount = forms.DecimalField(label=_("Fixed sum (yuan)"), required=False, max_digits=14, decimal_places=2)

    @staticmethod
    def initial_from(content: dict) -> dict:
        """The form's initial values from a version's content. An undecided clause is
        offered ticked once the terms have instalments."""
        clause = content.get("default_clause")
        offered = clause is not None or bool(instalment_pairs(content.get("terms", [])))
        return {
            **content,
            "default_clause": clause.get("enabled", False) if clause is not None else offered,
            "default_clause_offered": offered,
            "grace_days": (clause or {}).get("grace_days", 0),
            "penalty": (clause or {}).get("penalty", "none"),
            "penalty_rate": (clause or {}).get("rate") or None,
            "penalty_amount": (clause or {}).get("amount") or None,
        }

    def default_clause_data(self) -> dict | None:
        """The clause as the service takes it: None while the mediator has not decided."""
        data = self.cleaned_data
        if not data["default_clause"] and not data["default_clause_offered"]:
            return None
        return {
            "enabled": data["default_clause"],
            "grace_days": data["grace_days"] if data["grace_days"] is not None else 0,
            "penalty": data["penalty"] or "none",
            "rate": str(data["penalty_rate"]) if data["penalty_rate"] is not None else "",
            "amount": str(data["penalty_amount"]) if data["penalty_amount"] is not None else "",
        }

    def draft_fields(self) -> dict:
        """The fields update_draft takes besides the terms."""
        data = self.cleaned_data
        return {
            "facts": data["facts"],
            "costs": data["costs"],
            "effectiveness": data["effectiveness"],
            "judicial_confirmation": data["judicial_confirmation"],
            "default_clause": self.default_clause_data(),
        }


class SignForm(forms.Form):
    version_hash = forms.CharField(widget=forms.HiddenInput)
    party = forms.ModelChoiceField(label=_("I sign for"), queryset=Party.objects.none(), required=False)
    method = forms.ChoiceField(
        label=_("Signature"),
        choices=[("drawn", _("Draw my signature")), ("typed", _("Type my name instead"))],
        widget=forms.RadioSelect,
        initial="drawn",
    )
    signature = forms.CharField(widget=forms.HiddenInput, required=False)
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text=_("Enter it again to confirm it is you who signs."),
    )
    sms_code = forms.CharField(
        label=_("Code texted to your phone"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    totp_code = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class CourtDocumentSignForm(SignForm):
    """Signing a court document: the place signed (a party's, or the signer's own)
    instead of the party; the content hash read is sent back as `version_hash`."""

    slot = forms.ChoiceField(label=_("I sign as"), choices=())

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["party"]
        self.fields["slot"].choices = [(entry["slot"], entry["label"]) for entry in slots]


class PowerOfAttorneyUploadForm(forms.Form):
    """An agent's power of attorney: the agent uploads their own; the mediator chooses
    whose it is."""

    participant = forms.ModelChoiceField(label=_("Agent"), queryset=Participant.objects.none(), required=False)
    file = forms.FileField(label=_("Power of attorney (PDF, PNG or JPEG, at most 20 MB)"))

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agents is None:
            del self.fields["participant"]
        else:
            self.fields["participant"].queryset = agents
            self.fields["participant"].required = True
            self.fields["participant"].label_from_instance = lambda p: f"{p.user} · {p.party.name}"


class PowerOfAttorneyAcceptForm(forms.Form):
    """The scope the mediator reads in the power of attorney (special authority,
    特别授权) and how long it is valid."""

    may_change_claims = forms.BooleanField(label=_("To admit, waive or change claims"), required=False)
    may_settle = forms.BooleanField(label=_("To settle (mediation and settlement)"), required=False)
    may_sign_agreement = forms.BooleanField(label=_("To sign the settlement agreement"), required=False)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("The last day it is valid. Leave empty when it runs until the mediation ends."),
    )
