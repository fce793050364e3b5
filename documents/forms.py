from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from documents.agreement_rules import party_designation
from documents.models import Document, Service
from documents.services.agreement_content import (
    MAX_INSTALMENTS,
    MAX_INTERVAL_DAYS,
    MAX_TERMS,
    MIN_INSTALMENTS,
    instalment_pairs,
    instalment_terms,
)
from mediation.forms import LOCAL_DATETIME_FORMATS, DateInput, DateTimeInput
from mediation.models import MediationCase, Participant, Party
from mediation.models.cases import SIGNS_NOTHING


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, PNG, JPEG or Word, at most 20 MB)"))
    # Not a recording: the platform stores those from the rooms' media only.
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[choice for choice in Document.Kind.choices if choice[0] != Document.Kind.RECORDING]
    )
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
        # Not an interpreter or a helper: they receive nothing for the party.
        self.fields["recipient"].queryset = (
            Participant.active.filter(case=case).exclude(role__in=SIGNS_NOTHING).select_related("user", "party")
        )
        self.fields["recipient"].label_from_instance = lambda p: f"{p.user} · {p.party.name}"
        # A recording is not served: who may see it is the court's decision.
        self.fields["documents"].queryset = Document.objects.filter(case=case).exclude(
            kind__in=[Document.Kind.SERVICE_EVIDENCE, Document.Kind.RECORDING]
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
    # The term's place in an instalment schedule ("instalment 2 of 3"), kept as the
    # row is saved again; the service checks it (clean_instalment).
    instalment_n = forms.IntegerField(required=False, widget=forms.HiddenInput)
    instalment_of = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, parties: list[Party] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["obligor"].choices = party_choices(parties)
        self.fields["obligee"].choices = party_choices(parties)

    @staticmethod
    def initial_from(term: dict) -> dict:
        """A row's initial values from a stored term."""
        instalment = term.get("instalment") or {}
        return {**term, "instalment_n": instalment.get("n"), "instalment_of": instalment.get("of")}

    @staticmethod
    def term_from(row: dict) -> dict:
        """The term as the service takes it from a row's cleaned data."""
        term = {key: value for key, value in row.items() if key not in ("DELETE", "instalment_n", "instalment_of")}
        term["amount"] = str(row["amount"]) if row.get("amount") is not None else ""
        term["due_date"] = row["due_date"].isoformat() if row.get("due_date") else ""
        if row.get("instalment_n") is not None or row.get("instalment_of") is not None:
            term["instalment"] = {"n": row.get("instalment_n"), "of": row.get("instalment_of")}
        return term


def party_choices(parties) -> list:
    return [("", "—")] + [(party.pk, party_designation(party)) for party in parties]


TermFormSet = formset_factory(TermForm, extra=1, can_delete=True, max_num=MAX_TERMS, validate_max=True)


class InstalmentScheduleForm(forms.Form):
    """Split one payment into instalments: the server makes one payment term per
    instalment (documents.services.agreement_content.instalment_terms), appended to the
    draft's terms when it is saved. Left as it is offered, it makes nothing."""

    obligor = forms.TypedChoiceField(label=_("Debtor"), coerce=int, choices=(), required=False)
    obligee = forms.TypedChoiceField(label=_("Creditor"), coerce=int, choices=(), required=False)
    total = forms.DecimalField(
        label=_("Total amount (yuan)"), required=False, max_digits=14, decimal_places=2, min_value=0
    )
    count = forms.IntegerField(
        label=_("Number of instalments"), required=False, min_value=MIN_INSTALMENTS, max_value=MAX_INSTALMENTS
    )
    first_due = forms.DateField(label=_("First due date"), required=False, widget=DateInput())
    interval = forms.ChoiceField(
        label=_("Then"),
        choices=[("monthly", _("Every month, on the same day")), ("days", _("Every so many days"))],
        initial="monthly",
        required=False,
    )
    interval_days = forms.IntegerField(
        label=_("Days between instalments"),
        required=False,
        min_value=1,
        max_value=MAX_INTERVAL_DAYS,
        help_text=_("Only for every so many days."),
    )
    method = forms.CharField(
        label=_("Method of payment"),
        required=False,
        max_length=200,
        help_text=_("One line, such as bank transfer. The amounts and dates come from the schedule."),
    )

    def __init__(self, *args, parties: list[Party] = (), **kwargs):
        kwargs.setdefault("prefix", "schedule")
        super().__init__(*args, **kwargs)
        self.fields["obligor"].choices = party_choices(parties)
        self.fields["obligee"].choices = party_choices(parties)

    def is_used(self) -> bool:
        """Whether the mediator filled in the schedule (a field besides the interval)."""
        return any(
            self.data.get(self.add_prefix(name), "").strip()
            for name in ("obligor", "obligee", "total", "count", "first_due", "interval_days", "method")
        )

    def clean(self):
        data = super().clean()
        if not self.is_used() or self.errors:
            return data
        missing = [
            name for name in ("obligor", "obligee", "total", "count", "first_due") if data.get(name) in (None, "")
        ]
        for name in missing:
            self.add_error(name, self.fields[name].error_messages["required"])
        if missing:
            return data
        try:
            self.terms = instalment_terms(
                obligor=data["obligor"],
                obligee=data["obligee"],
                total=data["total"],
                count=data["count"],
                first_due=data["first_due"],
                interval=data.get("interval") or "monthly",
                interval_days=data.get("interval_days"),
                method=data.get("method", ""),
            )
        except ValidationError as error:
            for problem in error.error_dict.get("schedule", []):
                self.add_error(None, problem)
        return data

    def instalment_rows(self) -> list[dict]:
        """The terms the schedule makes (none when it was left empty). Call after
        is_valid()."""
        return getattr(self, "terms", [])


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


class ReportPerformedForm(forms.Form):
    """The obligor's side reports an agreed term performed (documents.services.performance):
    the day, a note, documents of the case as evidence, and/or a receipt uploaded now."""

    performed_on = forms.DateField(label=_("Performed on"), widget=DateInput())
    receipt = forms.FileField(
        label=_("Receipt or other evidence (PDF, PNG, JPEG or Word, at most 20 MB)"), required=False
    )
    evidence = forms.ModelMultipleChoiceField(
        label=_("Or documents of the case already uploaded"),
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note (how it was paid or done)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case: MediationCase, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what both sides see can show the other side it was performed; never a
        # recording (who may see one is the court's decision, and the service refuses it).
        self.fields["evidence"].queryset = Document.objects.filter(
            case=case, visibility=Document.Visibility.CASE
        ).exclude(kind=Document.Kind.RECORDING)


class UrgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you did to urge performance"),
        help_text=_("For example: phoned the debtor's representative, who promised to pay by Friday."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
