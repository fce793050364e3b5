"""Judicial confirmation of a settlement agreement (司法确认, Civil Procedure Law arts.
205–206; 法释〔2011〕5号): the parties' joint application, the court's acceptance with a
case number of its own (民特), the judge's review and ruling.

The application is made within 30 days of the agreement taking effect (`apply_by`).
The judge accepts it or not within 3 working days of its arrival (`accept_by`, on the
working-day calendar the desk uses), and decides within 15 days of accepting it
(`decide_by`), extended once with a recorded reason. The ruling (民事裁定书) confirms
the agreement valid or rejects the application, with the ground.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import Agreement
from documents.models.court_documents import CourtDocument
from mediation.models import MediationCase, MediationSession

# The period to apply, from the day the agreement takes effect (calendar days).
APPLY_WITHIN_DAYS = 30
# The period to accept or decline an application, from its arrival (working days).
ACCEPT_WITHIN_WORKING_DAYS = 3
# The period to decide, from acceptance (calendar days), and the longest extension.
DECIDE_WITHIN_DAYS = 15
MAX_EXTENSION_DAYS = 10
# Reminders to the parties before the window to apply closes (days left).
APPLY_REMINDER_DAYS = (7, 1)


class JudicialConfirmation(models.Model):
    class Status(models.TextChoices):
        # The joint application is laid out; the parties are signing it.
        PREPARING = "preparing", _("Being signed by the parties")
        # Signed by every party and sealed: in the judge's queue.
        APPLIED = "applied", _("Waiting for the court to accept")
        # Accepted, with its own case number: under the judge's review.
        ACCEPTED = "accepted", pgettext_lazy("judicial confirmation", "Under review")
        # The court declined to accept it, with the reason: final.
        NOT_ACCEPTED = "not_accepted", pgettext_lazy("judicial confirmation", "Not accepted")
        # The ruling confirms the agreement valid: final.
        CONFIRMED = "confirmed", pgettext_lazy("judicial confirmation", "Confirmed")
        # The ruling rejects the application, with the ground: final.
        REJECTED = "rejected", pgettext_lazy("judicial confirmation", "Rejected")
        # The parties withdrew it before the ruling: final.
        WITHDRAWN = "withdrawn", pgettext_lazy("judicial confirmation", "Withdrawn")
        # Not signed by every party before the window closed: final.
        LAPSED = "lapsed", pgettext_lazy("judicial confirmation", "Lapsed")

    class Ground(models.TextChoices):
        # The grounds to reject (法释〔2011〕5号 art. 7).
        HARMS_OTHERS = "harms_others", _("It harms the interests of the state, the public or a third party")
        UNLAWFUL = "unlawful", _("It breaks a mandatory provision of law or administrative regulation")
        SHAM = "sham", _("It is a sham, made to evade the law or a debt")
        NOT_VOLUNTARY = "not_voluntary", _("It was not made voluntarily")
        UNCLEAR = "unclear", _("Its content is unclear and cannot be enforced")
        OTHER = "other", _("Other ground, stated in the ruling")

    class Decision(models.TextChoices):
        CONFIRM = "confirm", _("Confirm the agreement valid")
        REJECT = "reject", _("Reject the application")

    # A live application: only one per agreement at a time, and none once one is decided.
    LIVE = (Status.PREPARING, Status.APPLIED, Status.ACCEPTED)
    FINAL = (Status.NOT_ACCEPTED, Status.CONFIRMED, Status.REJECTED, Status.WITHDRAWN, Status.LAPSED)
    # Which actions each state allows and the state they lead to ("rule" leads to
    # CONFIRMED or REJECTED, as the sealed ruling decides).
    TRANSITIONS = {
        "sign_application": ((Status.PREPARING,), Status.PREPARING),
        "apply": ((Status.PREPARING,), Status.APPLIED),
        "lapse": ((Status.PREPARING,), Status.LAPSED),
        "withdraw": (LIVE, Status.WITHDRAWN),
        "assign": ((Status.APPLIED, Status.ACCEPTED), None),
        "accept": ((Status.APPLIED,), Status.ACCEPTED),
        "decline": ((Status.APPLIED,), Status.NOT_ACCEPTED),
        "review": ((Status.ACCEPTED,), Status.ACCEPTED),
        "extend": ((Status.ACCEPTED,), Status.ACCEPTED),
        "draft_ruling": ((Status.ACCEPTED,), Status.ACCEPTED),
        "rule": ((Status.ACCEPTED,), None),
    }

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="confirmations")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="confirmations")
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PREPARING)
    application = models.ForeignKey(CourtDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ruling = models.ForeignKey(CourtDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The judge who reviews and decides: the case's judge, or one the department head assigns.
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The last day to apply: APPLY_WITHIN_DAYS after the agreement took effect.
    apply_by = models.DateField(_("apply by"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    # The end of the last working day to accept or decline.
    accept_by = models.DateTimeField(_("accept by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    case_number = models.CharField(_("case number"), max_length=64, blank=True, default="")
    decline_reason = models.TextField(_("reason for not accepting"), blank=True, default="")
    # The last day to decide: DECIDE_WITHIN_DAYS after acceptance, plus an extension.
    decide_by = models.DateField(_("decide by"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("days of extension"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True, default="")
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extended_at = models.DateTimeField(null=True, blank=True)
    # The judge's decision, fixed when the ruling is drafted; the status follows it
    # once the ruling is signed and sealed.
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True, default="")
    rejection_ground = models.CharField(
        _("ground for rejecting"), max_length=16, choices=Ground.choices, blank=True, default=""
    )
    # The judge's own words on the ground, printed in the ruling.
    rejection_note = models.TextField(_("reasons"), blank=True, default="")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Which reminders and alerts have gone ("apply_7", "apply_1", "accept_overdue",
    # "decide_overdue"), so a sweep run every few minutes sends each once.
    reminders_sent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("judicial confirmation")
        verbose_name_plural = _("judicial confirmations")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=~Q(status__in=["not_accepted", "withdrawn", "lapsed"]),
                name="one_confirmation_per_agreement",
            ),
            models.UniqueConstraint(
                fields=["case_number"], condition=~Q(case_number=""), name="confirmation_case_number_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "judge"], name="confirmation_queue_idx")]

    def __str__(self):
        return self.case_number or f"confirmation {self.pk} of {self.case_id}"

    def allows(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action][0]

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class ConfirmationReview(models.Model):
    """What the judge did to review an application (审查): questioned the parties in the
    joint room or in a session, or examined the file, and what they found."""

    class Kind(models.TextChoices):
        ROOM = "room", _("Questioned the parties in the joint room")
        SESSION = "session", _("Questioned the parties in a scheduled session")
        FILE = "file", _("Examined the file")

    confirmation = models.ForeignKey(JudicialConfirmation, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(_("how"), max_length=8, choices=Kind.choices)
    session = models.ForeignKey(MediationSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(_("when"))
    note = models.TextField(_("record of the review"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self):
        return f"review {self.pk} of {self.confirmation_id}"
