import re

from allauth.core import context
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from mediation import phones
from mediation.client_address import client_ip
from mediation.models import (
    Department,
    Invitation,
    MediationSession,
    Participant,
    ParticipantRole,
    Party,
    RoomKind,
    Side,
    User,
    WorkOrder,
)
from mediation.models.work_orders import Category, Channel, ReplyChannel, RequesterRole, Satisfaction
from mediation.roles import Role
from mediation.selectors.cases import open_invitations, sessions_open_to
from mediation.selectors.stats import Period
from mediation.verification_codes import refusal_to_send


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class PhoneField(forms.CharField):
    """A phone number as people type it (138 1234 5678, +852 6123 4567), cleaned to
    E.164 by the platform's one rule (mediation.phones); `mobile` for a number that
    must receive text messages. Empty stays "" when not required."""

    def __init__(self, *, mobile: bool = False, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)
        self.mobile = mobile

    def prepare_value(self, value):
        return phones.display(value) if value and not isinstance(value, str) else value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        try:
            return (phones.to_mobile_e164 if self.mobile else phones.to_e164)(value)
        except ValidationError as error:
            raise ValidationError(error.message_dict["phone"]) from None


class IntakeForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    received_at = forms.DateTimeField(
        label=_("Received at"),
        required=False,
        widget=DateTimeInput(),
        input_formats=LOCAL_DATETIME_FORMATS,
        help_text=_("Leave empty to use the current time."),
    )
    requester_name = forms.CharField(label=_("Requester's name"), max_length=100)
    requester_phone = PhoneNumberField(
        label=_("Requester's phone"),
        max_length=32,
        help_text=_(
            "A mobile or landline number, e.g. 138 1234 5678 or 010 6512 3456; + and the country code for one abroad."
        ),
    )
    requester_id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    requester_role = forms.ChoiceField(
        label=_("Role in the case"), choices=RequesterRole.choices, initial=RequesterRole.OTHER
    )
    case_number = forms.CharField(
        label=_("Related case number"), max_length=64, required=False, help_text=_("For example (2026)京0107民初123号")
    )
    content = forms.CharField(label=_("Request"), widget=forms.Textarea(attrs={"rows": 5}))


class JudgeSelect(forms.Select):
    """A judge list whose options carry their department, so that the page's script
    can narrow it to the department chosen beside it (`data-follows`)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        judge = getattr(value, "instance", None)
        if judge is not None:
            option["attrs"]["data-department"] = judge.department_id or ""
        return option


def active_judges(department_id=None):
    judges = User.objects.filter(groups__name=Role.JUDGE, is_active=True).order_by("full_name", "pk")
    if department_id is not None:
        judges = judges.filter(department_id=department_id)
    return judges


class DispatchForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.filter(is_active=True))
    assignee = forms.ModelChoiceField(
        label=_("Judge (optional)"),
        queryset=User.objects.none(),
        required=False,
        widget=JudgeSelect(attrs={"data-follows": "department"}),
        help_text=_("Only the judges of the chosen department."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The judges offered are those of the chosen department: the posted one, else
        # the order's current one. With none chosen yet, every judge is listed with
        # their department and the page's script narrows the list on choosing.
        chosen = self.data.get(self.add_prefix("department")) if self.is_bound else self.initial.get("department")
        chosen = getattr(chosen, "pk", chosen)
        department_id = int(chosen) if str(chosen or "").isdigit() else None
        if self.is_bound:
            # A judge of another department is not a valid choice.
            self.fields["assignee"].queryset = active_judges(department_id) if department_id else User.objects.none()
        else:
            self.fields["assignee"].queryset = active_judges(department_id)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Judge"), queryset=User.objects.none())
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, order: WorkOrder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            groups__name=Role.JUDGE, is_active=True, department_id=order.department_id
        ).order_by("full_name")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(forms.Form):
    note = forms.CharField(label=_("What was discussed"), widget=forms.Textarea(attrs={"rows": 2}))
    contacted_at = forms.DateTimeField(
        label=_("Contacted at"),
        required=False,
        widget=DateTimeInput(),
        input_formats=LOCAL_DATETIME_FORMATS,
        help_text=_("Leave empty to use the current time."),
    )


class ReplyForm(forms.Form):
    content = forms.CharField(label=_("Answer given to the requester"), widget=forms.Textarea(attrs={"rows": 4}))
    channel = forms.ChoiceField(label=_("Answered by"), choices=ReplyChannel.choices)
    replied_at = forms.DateTimeField(
        label=_("Answered at"),
        required=False,
        widget=DateTimeInput(),
        input_formats=LOCAL_DATETIME_FORMATS,
        help_text=_("Leave empty to use the current time."),
    )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("Confirmed outcome"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Filled in with the outcome reported; correct it if needed."),
    )


class SupervisionForm(forms.Form):
    content = forms.CharField(label=_("What the notice asks for"), widget=forms.Textarea(attrs={"rows": 3}))
    due_at = forms.DateTimeField(label=_("Answer by"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS)


class SupervisionAnswerForm(forms.Form):
    response = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))


class ReturnVisitForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("Was the requester reached?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    resolved = forms.TypedChoiceField(
        label=_("Is the matter resolved?"),
        choices=[("", _("Not asked")), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=[("", "—"), *Satisfaction.choices], required=False
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reopen = forms.BooleanField(label=_("Reopen the order (only when the requester is unsatisfied)"), required=False)


DESK_QUEUES = [
    ("", _("All open orders")),
    ("to_dispatch", _("To dispatch")),
    ("to_confirm", _("To confirm")),
    ("overdue", _("Overdue")),
    ("visit_due", _("Return visit due")),
]


class DeskFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Number, name, phone or case number; part of a number (at least 4 digits) will do"),
    )
    queue = forms.ChoiceField(label=_("Queue"), choices=DESK_QUEUES, required=False, widget=forms.HiddenInput)
    include_closed = forms.BooleanField(label=_("Include closed orders"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *WorkOrder.Status.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    visit_due = forms.BooleanField(label=_("Return visit due"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("Any category")), *Category.choices], required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.all(), required=False, empty_label=_("Any department")
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=User.objects.filter(groups__name=Role.JUDGE).order_by("full_name"),
        required=False,
        empty_label=_("Anyone"),
    )
    received_from = forms.DateField(label=_("Received from"), required=False, widget=DateInput())
    received_to = forms.DateField(label=_("Received until"), required=False, widget=DateInput())


class CaseForm(forms.Form):
    cause_of_action = forms.CharField(label=_("Cause of action"), max_length=100, help_text=_("For example 合同纠纷"))
    claim_amount = forms.DecimalField(
        label=_("Claim amount (yuan)"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    facts = forms.CharField(label=_("Facts and claims"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    judge = forms.ModelChoiceField(
        label=_("Judge (optional)"),
        queryset=User.objects.filter(groups__name=Role.JUDGE, is_active=True).order_by("full_name"),
        required=False,
    )


class PartyForm(forms.Form):
    side = forms.ChoiceField(
        label=_("Side"),
        choices=Side.choices,
        help_text=_(
            "A third party (第三人) is on neither side: their people are in the joint room only and sign the "
            "agreement like the parties."
        ),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Party.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    id_number = forms.CharField(label=_("ID number (a person)"), max_length=32, required=False)
    credit_code = forms.CharField(
        label=_("Unified social credit code (an organisation)"), max_length=18, required=False
    )
    legal_representative = forms.CharField(
        label=_("Legal representative (an organisation)"), max_length=100, required=False
    )
    phone = PhoneField(label=_("Phone"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class PartyEditForm(PartyForm):
    """Correct one party's details: shown with the party, filled with what it has now."""

    party = forms.ModelChoiceField(queryset=Party.objects.none(), widget=forms.HiddenInput)

    field_order = ["party"]

    def __init__(self, *args, case, party=None, **kwargs):
        if party is not None:
            kwargs.setdefault(
                "initial", {"party": party.pk, **{field: getattr(party, field) for field in Party.DETAILS}}
            )
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = case.parties.all()


class PartyRemoveForm(forms.Form):
    """Remove one party added by mistake: shown with the party."""

    party = forms.ModelChoiceField(queryset=Party.objects.none(), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why remove this party?"), max_length=300)

    def __init__(self, *args, case, party=None, **kwargs):
        if party is not None:
            kwargs.setdefault("initial", {"party": party.pk})
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = case.parties.all()


class InvitationForm(forms.Form):
    party = forms.ModelChoiceField(label=_("For the party"), queryset=Party.objects.none())
    role = forms.ChoiceField(
        label=_("As"),
        choices=ParticipantRole.choices,
        help_text=_(
            "A guardian acts and signs for a natural person who lacks capacity. An interpreter or a helper sees "
            "what the party sees and writes in the rooms, but signs and asks for nothing. Each proves their own "
            "identity with a code texted to their own mobile number."
        ),
    )
    full_name = forms.CharField(
        label=_("Name of the person"),
        max_length=100,
        required=False,
        help_text=_(
            "Their account bears it. Inviting a natural person in person, leave it empty for the party's name."
        ),
    )
    phone = PhoneField(
        label=_("Mobile phone"),
        mobile=True,
        required=False,
        help_text=_(
            "The invitation is texted there, and accepting it needs a code sent to it. Inviting the party in person, "
            "leave it empty for the party's phone."
        ),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("The link is also emailed there."),
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = case.parties.all()


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput(), input_formats=LOCAL_DATETIME_FORMATS)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=60, min_value=10, max_value=480)
    room_kind = forms.ChoiceField(label=_("Room"), choices=RoomKind.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("For court staff only: the parties do not see it."),
    )


class ExtensionForm(forms.Form):
    new_deadline = forms.DateField(label=_("New deadline"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class FilingForm(forms.Form):
    filed_case_number = forms.CharField(label=_("Number of the new case"), max_length=64)


class RemoveParticipantForm(forms.Form):
    participant = forms.ModelChoiceField(label=_("Participant"), queryset=Participant.objects.none())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = Participant.active.filter(case=case).select_related("user", "party")


class SessionChoiceForm(forms.Form):
    """Pick a session for a step ("start", "end", "cancel"). The page offers only the
    sessions the step can take now; a posted choice may be any of the case's sessions
    that are not cancelled, so that a stale page gets the service's reason why not
    ("already started") rather than "not one of the choices"."""

    session = forms.ModelChoiceField(label=_("Session"), queryset=MediationSession.objects.none())

    def __init__(self, *args, case, step: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = (
            case.sessions.filter(cancelled_at__isnull=True) if self.is_bound else sessions_open_to(case, step)
        )


class InvitationChoiceForm(forms.Form):
    """Pick an invitation to withdraw: the page offers the open ones; a posted choice
    may be any of the case's, and the service says why a closed one cannot go."""

    invitation = forms.ModelChoiceField(label=_("Invitation"), queryset=Invitation.objects.none())

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitation"].queryset = case.invitations.all() if self.is_bound else open_invitations(case)


class AcceptInvitationForm(forms.Form):
    """What accepting an invitation asks: the code texted to the invited number and,
    where the court recorded the party's ID number, that number."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}),
    )
    id_number = forms.CharField(
        label=_("Your resident ID number"),
        max_length=32,
        help_text=_("The same number as on your ID card, which the court recorded for this case."),
    )

    def __init__(self, *args, needs_id_number: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_id_number:
            del self.fields["id_number"]


class SignupDetailsForm(forms.Form):
    """Asked of a person signing up through an invitation, besides their mobile number
    (verified next by a texted code), an optional address and an optional password."""

    full_name = forms.CharField(label=_("Your full name"), max_length=100)
    field_order = ["full_name", "phone", "email", "password1", "password2"]

    def clean(self):
        cleaned_data = super().clean()
        phone = cleaned_data.get("phone")
        if phone:
            # The account is made before the code is texted: if no code can be sent
            # now, say so and make nothing.
            refusal = refusal_to_send(phone, client_address=client_ip(context.request) if context.request else None)
            if refusal is not None:
                self.add_error("phone", forms.ValidationError(refusal.message, code=refusal.code))
        return cleaned_data

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])


class FiguresPeriodForm(forms.Form):
    """The span the figures page and its exports cover: a range of years, a quarter or
    a month. The page's links and the API name the years `from` and `to`."""

    class Kind(models.TextChoices):
        YEAR = "year", _("Years")
        QUARTER = "quarter", _("Quarter")
        MONTH = "month", _("Month")

    FIRST_YEAR = 2000

    period = forms.ChoiceField(label=_("Period"), choices=Kind.choices, required=False)
    to = forms.IntegerField(label=_("to"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        coerce=int,
        required=False,
        choices=[(1, _("Q1")), (2, _("Q2")), (3, _("Q3")), (4, _("Q4"))],
    )
    month = forms.CharField(label=_("Month"), required=False, max_length=7)

    def __init__(self, data=None, *, today):
        self.today = today
        super().__init__(data=data)
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        self.fields = {"period": self.fields["period"], "from": forms.IntegerField(label=_("From"), required=False)} | {
            name: field for name, field in self.fields.items() if name != "period"
        }

    def _year(self, value, field):
        if field in self.errors:
            return None  # already refused by the field itself ("Enter a whole number.")
        if value is None:
            self.add_error(field, _("Enter a year."))
        elif not self.FIRST_YEAR <= value <= self.today.year:
            self.add_error(
                field,
                _("Enter a year from %(first)d to %(last)d.") % {"first": self.FIRST_YEAR, "last": self.today.year},
            )
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("period") or self.Kind.YEAR
        if kind == self.Kind.YEAR:
            first = self._year(data.get("from"), "from")
            last = self._year(data.get("to"), "to")
            if not self.errors and first > last:
                self.add_error("to", _("The last year must not be before the first."))
            if not self.errors:
                data["span"] = Period.years(first, last)
        elif kind == self.Kind.QUARTER:
            year = self._year(data.get("year"), "year")
            quarter = data.get("quarter")
            if not quarter:
                self.add_error("quarter", _("Choose a quarter."))
            if not self.errors:
                data["span"] = Period.of_quarter(year, quarter)
        else:
            match = re.fullmatch(r"(\d{4})-(\d{2})", data.get("month") or "")
            if not match or not 1 <= int(match[2]) <= 12:
                self.add_error("month", _("Enter a month as YYYY-MM, e.g. 2026-03."))
            elif self._year(int(match[1]), "month") and not self.errors:
                data["span"] = Period.of_month(int(match[1]), int(match[2]))
        if not self.errors and data["span"].start > self.today:
            self.add_error(None, _("This period has not begun yet."))
        return data
