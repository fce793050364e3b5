from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from mediation.models.keyed import KeyedIdNumbers
from mediation.personal_data import EncryptedCharField


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12368 hotline")
    WECHAT = "wechat", _("WeChat account")
    PORTAL = "portal", _("Online portal")
    WINDOW = "window", _("Service-hall window")
    LETTER = "letter", _("Letter")


class Category(models.TextChoices):
    CONTACT_JUDGE = "contact_judge", _("Contact a judge")
    CONSULTATION = "consultation", _("Litigation consultation")
    CASE_QUERY = "case_query", _("Case-status query")
    MATERIALS = "materials", _("Material hand-over")
    URGE = "urge", _("Urge progress")
    MEDIATION_REQUEST = "mediation_request", _("Request mediation")
    COMPLAINT = "complaint", _("Complaint or suggestion")
    OTHER = "other", _("Other")


class RequesterRole(models.TextChoices):
    PLAINTIFF = "plaintiff", _("Plaintiff")
    DEFENDANT = "defendant", _("Defendant")
    THIRD_PARTY = "third_party", _("Third party")
    AGENT = "agent", _("Agent or lawyer")
    OTHER = "other", _("Other or not a party")


class ReplyChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    WECHAT = "wechat", _("WeChat")
    IN_PERSON = "in_person", _("In person")
    LETTER = "letter", _("Letter")
    PORTAL = "portal", _("Online portal")


class WorkOrder(KeyedIdNumbers):
    class Status(models.TextChoices):
        # Recorded at intake, waiting for the general liaison to dispatch it.
        RECEIVED = "received", _("Received")
        # Sent to a department (and perhaps a judge), not yet taken up.
        DISPATCHED = "dispatched", _("Dispatched")
        # The department sent it back as not theirs; the liaison dispatches again.
        RETURNED = "returned", _("Returned")
        # Being handled by the department or judge.
        IN_PROGRESS = "in_progress", _("In progress")
        # The requester has been answered; the department has not yet reported back.
        REPLIED = "replied", _("Replied")
        # The department reported its result; the general liaison confirms it.
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
        # Confirmed and finished; a return visit follows.
        CLOSED = "closed", _("Closed")
        # Reopened after an unsatisfied return visit; handled again.
        REOPENED = "reopened", _("Reopened")

    class PauseReason(models.TextChoices):
        # A handler stopped the clock while waiting for the requester (materials, a
        # callback); the handler restarts it.
        REQUESTER = "requester", _("Waiting for the requester")
        # The dispute is in pre-litigation mediation; the clock restarts by itself
        # when the mediation case ends.
        MEDIATION = "mediation", _("In mediation")

    # The completion clock runs in these states; it stops once the requester is
    # answered.
    CLOCK_RUNNING_STATUSES = (
        Status.RECEIVED,
        Status.DISPATCHED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        Status.REOPENED,
    )

    # Which actions each state allows: transitions lead to the named state, the
    # others keep it. Who may act is decided in mediation.policy.
    TRANSITIONS = {
        "dispatch": ((Status.RECEIVED, Status.RETURNED), Status.DISPATCHED),
        "return": ((Status.DISPATCHED,), Status.RETURNED),
        "start": ((Status.DISPATCHED, Status.REOPENED), Status.IN_PROGRESS),
        "reply": ((Status.IN_PROGRESS,), Status.REPLIED),
        "submit": ((Status.REPLIED,), Status.AWAITING_CONFIRMATION),
        "close": ((Status.AWAITING_CONFIRMATION,), Status.CLOSED),
        "reopen": ((Status.CLOSED,), Status.REOPENED),
    }
    ACTION_STATES = {
        "assign": (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED),
        "record_contact": (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED),
        "pause": (Status.IN_PROGRESS,),
        "resume": (Status.IN_PROGRESS,),
        "supervise": (
            Status.RECEIVED,
            Status.DISPATCHED,
            Status.RETURNED,
            Status.IN_PROGRESS,
            Status.REPLIED,
            Status.AWAITING_CONFIRMATION,
            Status.REOPENED,
        ),
        "return_visit": (Status.CLOSED,),
        "refer_to_mediation": (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED),
        "record_mediation_outcome": (Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED),
    }

    number = models.CharField(_("number"), max_length=32, unique=True)
    external_source = models.CharField(_("external system"), max_length=64, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=128, blank=True, default="")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    requester_name = models.CharField(_("requester name"), max_length=100)
    # E.164 ("+8613812345678"); rows recorded before numbers were checked keep what
    # was typed if it was not a valid number (see the 0010 migration).
    requester_phone = PhoneNumberField(_("requester phone"), max_length=32)
    # Personal data: encrypted, matched by its keyed hash (mediation.personal_data).
    requester_id_number = EncryptedCharField(_("requester ID number"), blank=True, default="")
    requester_id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    ID_NUMBER_HASHES = {"requester_id_number": "requester_id_number_hash"}
    requester_role = models.CharField(
        _("requester's role in the case"),
        max_length=16,
        choices=RequesterRole.choices,
        default=RequesterRole.OTHER,
    )
    case_number = models.CharField(_("case number"), max_length=64, blank=True, default="")
    content = models.TextField(_("content"))
    received_at = models.DateTimeField(_("received at"))

    department = models.ForeignKey(
        "mediation.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_work_orders",
    )
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.RECEIVED)

    # Deadline policy copied at intake, so that a later policy change does not move
    # the deadlines of orders already running.
    first_contact_hours = models.PositiveSmallIntegerField(_("first contact within (hours)"))
    completion_working_days = models.PositiveSmallIntegerField(_("completion within (working days)"))
    first_contact_due = models.DateTimeField(_("first contact due"))
    completion_clock_start = models.DateTimeField(_("completion clock started"))
    first_contact_warn_at = models.DateTimeField(_("first contact warning at"))
    completion_due = models.DateTimeField(_("completion due"))
    completion_warn_at = models.DateTimeField(_("completion warning at"))
    paused_at = models.DateTimeField(_("waiting for the requester since"), null=True, blank=True)
    pause_reason = models.CharField(_("reason for waiting"), max_length=300, blank=True, default="")
    pause_reason_code = models.CharField(
        _("why the clock is stopped"), max_length=16, choices=PauseReason.choices, blank=True, default=""
    )
    paused_working_seconds = models.PositiveIntegerField(_("working time spent waiting (seconds)"), default=0)

    first_contacted_at = models.DateTimeField(_("first contact at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, default="")
    return_visit_satisfaction = models.CharField(
        _("satisfaction at the latest return visit"), max_length=16, blank=True, default=""
    )
    return_visited_at = models.DateTimeField(_("latest return visit at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="work_order_unique_external_id",
            ),
        ]
        # The desk lists orders newest first ("-received_at", "-id"); each index it filters
        # by ends with that order and the id, so that a page is read in index order and
        # the ids of a deep page (mediation.pagination.DeskPaginator) come from the
        # index alone. The PostgreSQL-only ones (name search, the figures) are made by
        # the desk_indexes migration.
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="wo_received_idx"),
            models.Index(fields=["status", "-received_at", "-id"], name="wo_status_received_idx"),
            models.Index(fields=["department", "status", "-received_at", "-id"], name="wo_dept_status_idx"),
            # Overdue orders: the running ones (CLOCK_RUNNING_STATUSES) with their two
            # clocks, a few percent of the table, answered without reading it.
            models.Index(
                fields=[
                    "-received_at",
                    "-id",
                    "completion_due",
                    "paused_at",
                    "first_contact_due",
                    "first_contacted_at",
                ],
                condition=Q(status__in=["received", "dispatched", "returned", "in_progress", "reopened"]),
                name="wo_running_received_idx",
            ),
            # The desk by default: the orders not closed, newest first.
            models.Index(fields=["-received_at", "-id"], condition=~Q(status="closed"), name="wo_open_received_idx"),
            models.Index(fields=["assignee", "status"], name="wo_assignee_status_idx"),
            models.Index(fields=["requester_phone"], name="wo_phone_idx"),
            models.Index(fields=["case_number"], name="wo_case_number_idx"),
            models.Index(fields=["completion_due"], name="wo_completion_due_idx"),
        ]

    def __str__(self):
        return self.number

    def allows(self, action: str) -> bool:
        """Whether the current state allows `action` (not whether a user may do it)."""
        if action in self.TRANSITIONS:
            allowed_from, _target = self.TRANSITIONS[action]
            states_ok = self.status in allowed_from
        else:
            states_ok = self.status in self.ACTION_STATES.get(action, ())
        if action == "pause":
            return states_ok and not self.is_paused
        if action == "resume":
            # A mediation's pause ends with the mediation, not by hand.
            return states_ok and self.is_paused and not self.is_in_mediation_pause
        return states_ok

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_in_mediation_pause(self) -> bool:
        return self.is_paused and self.pause_reason_code == self.PauseReason.MEDIATION

    @property
    def first_contact_clock_running(self) -> bool:
        return self.first_contacted_at is None and self.status in self.CLOCK_RUNNING_STATUSES

    @property
    def completion_clock_running(self) -> bool:
        return self.status in self.CLOCK_RUNNING_STATUSES and not self.is_paused

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        completion_late = self.completion_clock_running and self.completion_due < now
        first_contact_late = self.first_contact_clock_running and self.first_contact_due < now
        return completion_late or first_contact_late


class WorkOrderEvent(models.Model):
    """One line of an order's timeline: a transition (from and to differ) or a
    recorded action that keeps the state (a contact, a supervision notice)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=24, blank=True, default="")
    to_status = models.CharField(max_length=24, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self):
        return f"{self.order_id} {self.action}"


class WorkOrderReply(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="replies")
    # A person's answer; rows from before settlements stopped recording one may have none.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    content = models.TextField(_("reply"))
    channel = models.CharField(_("reply channel"), max_length=16, choices=ReplyChannel.choices)
    replied_at = models.DateTimeField(_("replied at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replied_at", "id"]
        verbose_name = _("reply to the requester")
        verbose_name_plural = _("replies to the requester")

    def __str__(self):
        return f"{self.order_id} reply at {self.replied_at}"


class SupervisionNotice(models.Model):
    """A liaison's supervision notice (督办): the hand-kept half of two-track
    supervision, with its own deadline and the assignee's answer."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="supervision_notices")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    content = models.TextField(_("notice"))
    due_at = models.DateTimeField(_("answer due"))
    response = models.TextField(_("response"), blank=True, default="")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")

    def __str__(self):
        return f"{self.order_id} notice due {self.due_at}"

    @property
    def is_open(self) -> bool:
        return self.responded_at is None


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class ReturnVisit(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="return_visits")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(default=timezone.now)
    reached = models.BooleanField(_("requester reached"))
    resolved = models.BooleanField(_("matter resolved"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True, default=""
    )
    comment = models.TextField(_("comment"), blank=True, default="")
    reopened = models.BooleanField(_("order reopened"), default=False)

    class Meta:
        ordering = ["visited_at", "id"]
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")

    def __str__(self):
        return f"{self.order_id} visit at {self.visited_at}"


class DeadlinePolicy(models.Model):
    """The two clocks of a category: first contact within N natural hours, completion
    within N working days (counted from the day after receipt)."""

    category = models.CharField(_("category"), max_length=24, choices=Category.choices, unique=True)
    first_contact_hours = models.PositiveSmallIntegerField(_("first contact within (hours)"))
    completion_working_days = models.PositiveSmallIntegerField(_("completion within (working days)"))

    class Meta:
        ordering = ["category"]
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")

    def __str__(self):
        return self.get_category_display()


class DeadlineAlert(models.Model):
    """A warning or overdue notice sent by `check_deadlines`. The unique constraint is
    what makes the command idempotent: one alert per clock, level and deadline."""

    class Clock(models.TextChoices):
        FIRST_CONTACT = "first_contact", _("First contact")
        COMPLETION = "completion", _("Completion")

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        OVERDUE = "overdue", _("Overdue")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="deadline_alerts")
    clock = models.CharField(max_length=16, choices=Clock.choices)
    level = models.CharField(max_length=16, choices=Level.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "clock", "level", "due_at"], name="deadline_alert_once")
        ]

    def __str__(self):
        return f"{self.order_id} {self.clock} {self.level}"
