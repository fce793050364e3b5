from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from mediation.models.keyed import KeyedIdNumbers
from mediation.personal_data import EncryptedCharField


class MediationCase(models.Model):
    """A pre-litigation mediation (诉前调解), opened from a work order or directly by a
    mediator."""

    class Status(models.TextChoices):
        # Delegated to a mediation organisation (委派调解) and waiting for one of its
        # mediators to accept it: no mediator yet (`mediation.models.Delegation`).
        DELEGATED = "delegated", _("Delegated, waiting for a mediator")
        # Opened; parties are being invited.
        PENDING = "pending", pgettext_lazy("mediation case", "Pending")
        # The mediator has started mediating.
        IN_MEDIATION = "in_mediation", _("In mediation")
        # The parties reached a settlement.
        SETTLED = "settled", _("Settled")
        # Mediation failed; the dispute may be filed as an ordinary case (转立案).
        FAILED = "failed", pgettext_lazy("mediation case", "Failed")
        # The applicant withdrew.
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Open: the dispute is still in mediation's hands (its period runs, the work order
    # waits). MEDIATING: open and with a mediator, who can act on it.
    OPEN_STATUSES = (Status.DELEGATED, Status.PENDING, Status.IN_MEDIATION)
    MEDIATING_STATUSES = (Status.PENDING, Status.IN_MEDIATION)
    TRANSITIONS = {
        # A mediator of the organisation accepted the delegated case, or the court
        # assigned one directly after the delegation came back.
        "accept_delegation": ((Status.DELEGATED,), Status.PENDING),
        "assign_mediator": ((Status.DELEGATED,), Status.PENDING),
        "start": ((Status.PENDING,), Status.IN_MEDIATION),
        "settle": ((Status.IN_MEDIATION,), Status.SETTLED),
        "fail": ((Status.PENDING, Status.IN_MEDIATION), Status.FAILED),
        "withdraw": ((Status.DELEGATED, Status.PENDING, Status.IN_MEDIATION), Status.WITHDRAWN),
        # Back to mediation after the court rejected the settlement's confirmation, to
        # amend the agreement (only then: see `court_rejected_settlement`).
        "resume": ((Status.SETTLED,), Status.IN_MEDIATION),
    }
    ACTION_STATES = {
        "invite": MEDIATING_STATUSES,
        "schedule": MEDIATING_STATUSES,
        "remove_participant": MEDIATING_STATUSES,
        "add_party": OPEN_STATUSES,
        "edit_party": OPEN_STATUSES,
        "remove_party": OPEN_STATUSES,
        "extend": OPEN_STATUSES,
        # Delegating (again) to an organisation: only while no mediator has the case.
        "delegate": (Status.DELEGATED,),
        # The delegation's own steps (mediation.services.delegation), all while no
        # mediator has the case: the organisation's admin dispatches it to a mediator,
        # the mediator (or the admin before dispatching) declines it.
        "dispatch_delegation": (Status.DELEGATED,),
        "decline_delegation": (Status.DELEGATED,),
        # A party's application to replace the mediator, and the judge's decision.
        "request_recusal": MEDIATING_STATUSES,
        "decide_recusal": MEDIATING_STATUSES,
        # Supervision notices (督办) on an open case, and the answers to them.
        "supervise": OPEN_STATUSES,
        # A notice is answered whatever became of the case since it was issued.
        "answer_supervision": tuple(Status),
        # What a party did in person (documents.InPersonAct), recorded by the mediator.
        "record_in_person": (*MEDIATING_STATUSES, Status.SETTLED),
        # The mediation record of a session (调解笔录), written and sent for signature by
        # the mediator during or after it; a failed case's records go into its filing package.
        "write_record": (*MEDIATING_STATUSES, Status.SETTLED, Status.FAILED),
        # A failed mediation, or a settlement the court refused to confirm.
        "transfer_to_filing": (Status.FAILED, Status.SETTLED),
        # The judge reviewing an application for judicial confirmation questions the
        # parties in a session of the settled case.
        "schedule_review": (Status.SETTLED,),
    }
    # Actions a settled case allows only once the court rejected the application to
    # confirm its agreement: mediating again to amend it, or going to court.
    AFTER_REJECTION = ("resume", "transfer_to_filing")

    number = models.CharField(_("case number"), max_length=64, unique=True)
    work_order = models.ForeignKey(
        "mediation.WorkOrder",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediation_cases",
    )
    cause_of_action = models.CharField(_("cause of action"), max_length=100)
    claim_amount = models.DecimalField(_("claim amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    facts = models.TextField(_("facts and claims"), blank=True, default="")
    # None only while the case is delegated and no mediator has accepted it.
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mediator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediated_cases",
    )
    # The organisation that mediates: the one the case is delegated to, or the
    # mediator's (from their roster profile); None for a court mediator without one.
    organisation = models.ForeignKey(
        "mediation.MediationOrganisation",
        verbose_name=_("mediation organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("judge"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_cases",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    started_on = models.DateField(_("started on"))
    deadline = models.DateField(_("mediation deadline"))
    # When a mediator took the case: at opening or referral to a mediator directly,
    # at acceptance when delegated. The figures count "accepted" by it.
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True, default="")
    # The facts both sides accepted (无争议事实记载), written by the mediator when
    # mediation fails; they go into the filing package.
    undisputed_facts = models.TextField(_("facts both sides accepted"), blank=True, default="")
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    filed_case_number = models.CharField(_("filed as case number"), max_length=64, blank=True, default="")
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        indexes = [
            models.Index(fields=["mediator", "status"], name="case_mediator_status_idx"),
            models.Index(fields=["status", "deadline"], name="case_status_deadline_idx"),
            models.Index(fields=["organisation", "status"], name="case_org_status_idx"),
            # The case list (mediation.selectors.case_list): newest first, all or by status.
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="case_status_created_idx"),
        ]

    def __str__(self):
        return self.number

    def allows(self, action: str) -> bool:
        if action in self.TRANSITIONS:
            allowed = self.status in self.TRANSITIONS[action][0]
        else:
            allowed = self.status in self.ACTION_STATES.get(action, ())
        if allowed and action in self.AFTER_REJECTION and self.status == self.Status.SETTLED:
            return self.court_rejected_settlement()
        return allowed

    def court_rejected_settlement(self) -> bool:
        """Whether the court's latest word on this case's settlement is a ruling that
        rejects the application to confirm it (judicial confirmation, documents app):
        the one rule for resuming mediation and for going to court after a settlement."""
        latest = self.confirmations.order_by("-created_at", "-id").values_list("status", flat=True).first()
        return latest == "rejected"

    def scheduling_action(self) -> str:
        """The rule a session of this case is scheduled, started, ended or cancelled
        under: the mediator's while mediating; in a settled case, only the judge
        reviewing its application for judicial confirmation holds sessions."""
        return "schedule_review" if self.status == self.Status.SETTLED else "schedule"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CaseEvent(models.Model):
    """One line of a case's timeline."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.action}"


class DeadlineExtension(models.Model):
    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="extensions")
    previous_deadline = models.DateField(_("previous deadline"))
    new_deadline = models.DateField(_("new deadline"))
    reason = models.TextField(_("reason"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")

    def __str__(self):
        return f"{self.case_id}: {self.previous_deadline} → {self.new_deadline}"


class Side(models.TextChoices):
    PLAINTIFF = "plaintiff", _("Plaintiff")
    DEFENDANT = "defendant", _("Defendant")
    # 第三人: neither side; in the joint room only (no caucus of their own), and
    # signs the agreement like the parties.
    THIRD_PARTY = "third", _("Third party")


def side_label(side: str) -> str:
    """What a side is called (原告/被告) on every page and document: the case, the
    rooms, the agreement and its verification all name the parties by this."""
    return str(Side(side).label)


class Party(KeyedIdNumbers):
    """A plaintiff or defendant: a natural person or an organisation."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Natural person")
        ORGANISATION = "organisation", _("Organisation")

    # The details a mediator enters and may correct.
    DETAILS = ("side", "kind", "name", "id_number", "credit_code", "legal_representative", "phone", "address")

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    # A resident ID number is personal data: stored encrypted, matched by its keyed
    # hash (mediation.personal_data), shown masked to whoever does not need it whole.
    id_number = EncryptedCharField(_("ID number"), blank=True, default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    ID_NUMBER_HASHES = {"id_number": "id_number_hash"}
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True, default="")
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True, default="")
    phone = PhoneNumberField(_("mobile phone"), max_length=32, blank=True, default="")
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Plaintiffs before defendants, as documents list them.
        ordering = [
            models.Case(models.When(side="plaintiff", then=0), models.When(side="defendant", then=1), default=2),
            "id",
        ]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        # The case list's search by a whole phone number (E.164).
        indexes = [models.Index(fields=["phone"], name="party_phone_idx")]

    def __str__(self):
        return self.name


class ParticipantRole(models.TextChoices):
    PARTY = "party", _("The party in person")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
    AGENT = "agent", _("Agent (lawyer)")
    # 法定代理人 of a natural person who lacks capacity: acts and signs for them.
    GUARDIAN = "guardian", _("Guardian (statutory agent)")
    # They see what their party sees and sign nothing (`SIGNS_NOTHING`).
    INTERPRETER = "interpreter", _("Interpreter")
    # A relative or friend helping the party (e.g. an elderly party) to type.
    HELPER = "helper", _("Helper")


# Roles that take part beside their party without acting for them: they see what the
# party sees, may write in the rooms, and sign, apply for and ask for nothing.
SIGNS_NOTHING = (ParticipantRole.INTERPRETER, ParticipantRole.HELPER)


class ActiveParticipantManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(removed_at__isnull=True)


class Participant(models.Model):
    """A user account acting for a party in a case. A party's rights on the platform
    come from this row only; removing it (removed_at) takes them away at once."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="participants")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(_("role"), max_length=24, choices=ParticipantRole.choices)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=300, blank=True, default="")

    objects = models.Manager()
    active = ActiveParticipantManager()

    class Meta:
        ordering = ["joined_at", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], condition=Q(removed_at__isnull=True), name="participant_once_per_case"
            )
        ]
        indexes = [models.Index(fields=["user", "removed_at"], name="participant_user_idx")]

    def __str__(self):
        return str(_("%(user)s for %(party)s") % {"user": self.user, "party": self.party})

    @property
    def side(self) -> str:
        return self.party.side

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Invitation(models.Model):
    """A single-use link, valid for a week, texted to the invited person's mobile
    number, that attaches them to a party of the case once they confirm a code sent to
    that number. Only the SHA-256 of the token is stored."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="invitations")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="invitations")
    role = models.CharField(_("role"), max_length=24, choices=ParticipantRole.choices)
    email = models.EmailField(_("email"), blank=True, default="")
    full_name = models.CharField(_("name"), max_length=100, blank=True, default="")
    # The invited person's mobile number: the invitation is texted there, and accepting
    # it needs a code sent to it.
    phone = PhoneNumberField(_("mobile phone"), max_length=32, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Wrong ID numbers given when accepting (mediation.services.invitations): at
    # MAX_WRONG_ID_NUMBERS the invitation is dead ("locked").
    wrong_id_numbers = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.full_name or self.email} → {self.party}"

    # An ID number's last digits are few enough to guess for someone who knows the
    # person's birthplace and birthday, so wrong ones are counted per invitation.
    MAX_WRONG_ID_NUMBERS = 5

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.accepted_at:
            return "accepted"
        if self.wrong_id_numbers >= self.MAX_WRONG_ID_NUMBERS:
            return "locked"
        if self.expires_at <= now:
            return "expired"
        return "open"


class RoomKind(models.TextChoices):
    """The rooms of a case, named here so that sessions can refer to them without
    mediation importing rooms."""

    JOINT = "joint", _("Joint room")
    CAUCUS_PLAINTIFF = "caucus_plaintiff", _("Plaintiff caucus")
    CAUCUS_DEFENDANT = "caucus_defendant", _("Defendant caucus")


class MediationSession(models.Model):
    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="sessions")
    room_kind = models.CharField(_("room"), max_length=20, choices=RoomKind.choices, default=RoomKind.JOINT)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    note = models.CharField(_("note"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        indexes = [models.Index(fields=["reminded_at", "starts_at"], name="session_reminder_idx")]

    def __str__(self):
        from django.utils import timezone

        return f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M} · {self.get_room_kind_display()}"


class CaseDeadlineAlert(models.Model):
    """A warning (at 75 % of the mediation period) or overdue notice on a case's
    deadline, sent by the case deadline check; the constraint makes it idempotent:
    one per level and deadline (an extension gives a new deadline, so new alerts)."""

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        OVERDUE = "overdue", _("Overdue")

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="deadline_alerts")
    level = models.CharField(max_length=16, choices=Level.choices)
    deadline = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "level", "deadline"], name="case_deadline_alert_once")]

    def __str__(self):
        return f"{self.case_id} {self.level} {self.deadline}"


class CaseSupervisionNotice(models.Model):
    """A supervision notice (督办) on a mediation case, issued by the judge, a
    department head or the general liaison, answered by the mediator."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="supervision_notices")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    content = models.TextField(_("notice"), max_length=2000)
    due_at = models.DateTimeField(_("answer due"))
    response = models.TextField(_("response"), max_length=2000, blank=True, default="")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("supervision notice on a case")
        verbose_name_plural = _("supervision notices on cases")

    def __str__(self):
        return f"{self.case_id} notice due {self.due_at}"

    @property
    def is_open(self) -> bool:
        return self.responded_at is None
