"""Performance of the agreed terms (履行): each payment or act term of a sealed
settlement agreement becomes an obligation, followed until it is performed.

The obligor's side reports it performed, with evidence; the obligee's side confirms
it or disputes it with a reason. An obligation past its due date and not reported
is overdue: the obligor is reminded before and on the due date, the mediator is told
to urge performance (督促履行) and records what they did, and the judge is told when
it stays overdue OVERDUE_JUDGE_DAYS days.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import Agreement, Document
from mediation.models import MediationCase, Party

# Reminders to the obligor, in days before the due date (0: on the day).
REMINDER_DAYS_BEFORE = (3, 0)
# The judge is told once an obligation has been overdue this many days.
OVERDUE_JUDGE_DAYS = 7


class Obligation(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment", pgettext_lazy("agreed term", "Payment")
        ACT = "act", pgettext_lazy("agreed term", "Act")

    class Status(models.TextChoices):
        # Not yet performed; the due date has not passed (or there is none).
        DUE = "due", pgettext_lazy("obligation", "Due")
        # The obligor's side says it is performed; the obligee's side has not answered.
        REPORTED = "reported", pgettext_lazy("obligation", "Reported performed")
        # The obligee's side confirmed it performed: final.
        PERFORMED = "performed", pgettext_lazy("obligation", "Performed")
        # The obligee's side disputes the report, saying why.
        DISPUTED = "disputed", pgettext_lazy("obligation", "Disputed")
        # Past its due date and not reported performed.
        OVERDUE = "overdue", pgettext_lazy("obligation", "Overdue")

    # Which actions each state allows and the state they lead to ("urge" and "remind"
    # change nothing but the record).
    TRANSITIONS = {
        "report_performed": ((Status.DUE, Status.OVERDUE, Status.DISPUTED), Status.REPORTED),
        "confirm": ((Status.REPORTED,), Status.PERFORMED),
        "dispute": ((Status.REPORTED,), Status.DISPUTED),
        # A disputed report is no performance: past its date, the term is overdue all the same.
        "become_overdue": ((Status.DUE, Status.DISPUTED), Status.OVERDUE),
        "urge": ((Status.DUE, Status.OVERDUE, Status.DISPUTED), None),
    }
    # Not yet performed, whatever the reason.
    OPEN_STATUSES = (Status.DUE, Status.REPORTED, Status.DISPUTED, Status.OVERDUE)

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="obligations")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="obligations")
    # The term's place in the sealed version's terms (1-based), and for an instalment
    # its number and the count ("instalment 2 of 3"); None otherwise.
    term_number = models.PositiveSmallIntegerField()
    instalment = models.PositiveSmallIntegerField(null=True, blank=True)
    instalments = models.PositiveSmallIntegerField(null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    obligor = models.ForeignKey(Party, verbose_name=_("owed by"), on_delete=models.PROTECT, related_name="+")
    obligee = models.ForeignKey(Party, verbose_name=_("owed to"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    # The term's own words: how it is paid, or the act to be done (as agreed, in the
    # agreement's language).
    description = models.TextField(_("what is owed"), blank=True, default="")
    due_date = models.DateField(_("due by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    # The day the obligor's side says it was performed, and when they reported it.
    performed_on = models.DateField(_("performed on"), null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateField(null=True, blank=True)
    # Which reminders and alerts have gone ("before_3", "before_0", "judge"), so a
    # sweep run every few minutes sends each once.
    reminders_sent = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "term_number", "id"]
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "term_number"], name="one_obligation_per_term"),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="obligation_due_idx")]

    def __str__(self):
        return f"obligation {self.pk} (term {self.term_number}) of {self.case_id}"

    def allows(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action][0]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def performed_on_time(self) -> bool | None:
        """Performed by its due date (None while not performed, or without a date)."""
        if self.status != self.Status.PERFORMED or self.due_date is None or self.performed_on is None:
            return None
        return self.performed_on <= self.due_date


class ObligationStep(models.Model):
    """One step in an obligation's record: reported (with evidence), confirmed,
    disputed (with the reason), overdue, urged (the mediator's note), reminded."""

    class Step(models.TextChoices):
        REPORTED = "reported", pgettext_lazy("obligation step", "Reported performed")
        CONFIRMED = "confirmed", pgettext_lazy("obligation step", "Confirmed performed")
        DISPUTED = "disputed", pgettext_lazy("obligation step", "Disputed")
        OVERDUE = "overdue", pgettext_lazy("obligation step", "Became overdue")
        URGED = "urged", pgettext_lazy("obligation step", "Urged to perform")
        REMINDED = "reminded", pgettext_lazy("obligation step", "Reminded")

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=10, choices=Step.choices)
    # None for the platform's own steps (overdue, reminded).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The party the actor acted for (reported or answered as).
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    # The reporter's, disputer's or mediator's words, as they wrote them.
    note = models.TextField(blank=True, default="")
    # Codes and parameters for the platform's own steps ({"days_before": 3}).
    data = models.JSONField(default=dict, blank=True)
    evidence = models.ManyToManyField(Document, blank=True, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.obligation_id} {self.step}"
