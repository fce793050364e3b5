from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from documents.models import Document, Service
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
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, case: MediationCase, **kwargs):
        super().__init__(*args, **kwargs)
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
    kind = forms.ChoiceField(label=_("Kind"), choices=[("payment", _("Payment")), ("act", _("Act"))])
    obligor = forms.TypedChoiceField(label=_("Who"), coerce=int, choices=())
    obligee = forms.TypedChoiceField(label=_("For whom"), coerce=int, choices=())
    amount = forms.DecimalField(label=_("Amount (yuan)"), required=False, max_digits=14, decimal_places=2, min_value=0)
    method = forms.CharField(label=_("How it is paid"), required=False, max_length=200)
    due_date = forms.DateField(label=_("By"), required=False, widget=DateInput())
    act = forms.CharField(label=_("What is to be done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, parties: list[Party] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(party.pk, party.name) for party in parties]
        self.fields["obligor"].choices = choices
        self.fields["obligee"].choices = choices


TermFormSet = formset_factory(TermForm, extra=1, can_delete=True)


class AgreementForm(forms.Form):
    facts = forms.CharField(label=_("Facts and the dispute"), widget=forms.Textarea(attrs={"rows": 5}))
    costs = forms.CharField(label=_("Costs"), widget=forms.Textarea(attrs={"rows": 2}))
    effectiveness = forms.CharField(label=_("Effect of the agreement"), widget=forms.Textarea(attrs={"rows": 2}))
    judicial_confirmation = forms.BooleanField(
        label=_("The parties will apply for judicial confirmation"), required=False
    )


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
    totp_code = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
