"""The court's mediation organisation: the roster of specially invited organisations
and mediators (特邀调解组织、特邀调解员), delegation of a case to an organisation
(委派调解), and a party's application to replace the mediator (申请回避).

Rules on these rows live in `mediation.roster` (who may be assigned, who is
recommended) and the services in `mediation.services.roster`,
`mediation.services.delegation` and `mediation.services.recusal`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MediationOrganisation(models.Model):
    class Kind(models.TextChoices):
        # 人民调解委员会
        PEOPLES_COMMITTEE = "peoples_committee", _("People's mediation committee")
        # 行业调解组织 (e.g. for property services, insurance, medical disputes)
        INDUSTRY = "industry", _("Industry mediation organisation")
        # 商事调解组织: may charge a fee
        COMMERCIAL = "commercial", _("Commercial mediation organisation")
        # The court's own mediation centre (诉调对接中心), whose mediators are court staff
        COURT = "court", _("The court's own mediation centre")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Where it works, as the public roster filters by it, e.g. 北京市朝阳区.
    region = models.CharField(_("region"), max_length=100)
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    # Contact details are for the court; the public roster never shows them.
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True, default="")
    contact_phone = models.CharField(_("contact telephone"), max_length=40, blank=True, default="")
    contact_email = models.EmailField(_("contact email"), blank=True, default="")
    description = models.TextField(_("public description"), max_length=1000, blank=True, default="")
    # The court chooses what the public roster shows (人民法院在线调解规则 art. 5).
    is_published = models.BooleanField(_("published on the public roster"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # The organisation's administrators (members of the organisation_admin group):
    # they manage its mediators' profiles and dispatch the cases delegated to it.
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("administrators"),
        blank=True,
        related_name="administered_organisations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mediation organisation")
        verbose_name_plural = _("mediation organisations")

    def __str__(self):
        return self.name


class MediatorProfile(models.Model):
    """A mediator's entry in the roster. A member of the mediator group without a
    profile is one of the court's own staff mediators, assignable as before; a
    mediator with a profile is assignable only while the profile is active and the
    appointment's term covers the day (`mediation.roster.assignment_refusal`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("mediator", "Active")
        # Temporarily may not take cases (e.g. under review); the roster hides them.
        SUSPENDED = "suspended", pgettext_lazy("mediator", "Suspended")
        # Removed from the roster for good.
        DISMISSED = "dismissed", pgettext_lazy("mediator", "Dismissed")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mediator_profile")
    organisation = models.ForeignKey(
        MediationOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="mediators"
    )
    # A public title, e.g. 退休法官, 律师, 人民调解员.
    title = models.CharField(_("title"), max_length=100, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    # Languages and dialects they mediate in, as shown to the public, e.g. 普通话、粤语、English.
    languages = models.CharField(_("languages"), max_length=200, blank=True, default="")
    term_starts_on = models.DateField(_("appointed from"))
    term_ends_on = models.DateField(_("appointed until"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("reason for the status"), max_length=300, blank=True, default="")
    biography = models.TextField(_("short public biography"), max_length=1000, blank=True, default="")
    # Only where the organisation is commercial (商事调解): what it charges, as text.
    fee = models.CharField(_("fee"), max_length=200, blank=True, default="")
    is_published = models.BooleanField(_("published on the public roster"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name", "user__full_name", "id"]
        verbose_name = _("mediator profile")
        verbose_name_plural = _("mediator profiles")

    def __str__(self):
        return f"{self.user} ({self.organisation})"


class MediatorSpecialty(models.Model):
    """A cause of action (案由, `mediation.causes`) a mediator specialises in."""

    profile = models.ForeignKey(MediatorProfile, on_delete=models.CASCADE, related_name="specialties")
    cause_of_action = models.CharField(_("cause of action"), max_length=100)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "cause_of_action"], name="mediator_specialty_once"),
        ]
        indexes = [models.Index(fields=["cause_of_action"], name="mediator_specialty_cause_idx")]

    def __str__(self):
        return self.cause_of_action


class Delegation(models.Model):
    """One delegation of a case to an organisation (委派调解). The case waits in
    status "delegated" with no mediator; the organisation's admin dispatches it to one
    of its mediators, who accepts within 2 working days (the case gets its mediator
    and goes to "pending") or it returns to the court with a flag (`returned`), and
    the court assigns a mediator directly or delegates again."""

    class Status(models.TextChoices):
        # With the organisation's admins, to choose a mediator.
        AWAITING_DISPATCH = "awaiting_dispatch", _("Waiting to be dispatched")
        # Dispatched to a mediator, who has until `accept_by` to accept.
        AWAITING_ACCEPTANCE = "awaiting_acceptance", _("Waiting for the mediator to accept")
        # The mediator accepted: the case is theirs.
        ACCEPTED = "accepted", pgettext_lazy("delegation", "Accepted")
        # Back with the court (`return_reason`): the case shows a flag until the court
        # assigns a mediator or delegates again.
        RETURNED = "returned", _("Returned to the court")
        # The court took the case back before it was accepted (e.g. the case was withdrawn).
        WITHDRAWN = "withdrawn", pgettext_lazy("delegation", "Withdrawn")

    class ReturnReason(models.TextChoices):
        NOT_ACCEPTED_IN_TIME = "not_accepted_in_time", _("The mediator did not accept within 2 working days")
        DECLINED_BY_MEDIATOR = "declined_by_mediator", _("The mediator declined")
        DECLINED_BY_ORGANISATION = "declined_by_organisation", _("The organisation declined")

    OPEN_STATUSES = (Status.AWAITING_DISPATCH, Status.AWAITING_ACCEPTANCE)

    case = models.ForeignKey("mediation.MediationCase", on_delete=models.CASCADE, related_name="delegations")
    organisation = models.ForeignKey(
        MediationOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="delegations"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_DISPATCH)
    delegated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    delegated_at = models.DateTimeField(_("delegated at"))
    dispatched_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispatched_delegations",
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    # The end of the 2nd working day after dispatch, on the desk's calendar.
    accept_by = models.DateTimeField(_("to accept by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.CharField(
        _("why it was returned"), max_length=30, choices=ReturnReason.choices, blank=True, default=""
    )
    return_note = models.CharField(_("note"), max_length=500, blank=True, default="")
    # When the court dealt with a returned delegation (assigned or delegated again):
    # the flag on the case is down from then.
    flag_cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delegated_at", "id"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        indexes = [
            models.Index(fields=["organisation", "status"], name="delegation_org_status_idx"),
            models.Index(fields=["status", "accept_by"], name="delegation_accept_by_idx"),
        ]

    def __str__(self):
        return f"{self.case_id} → {self.organisation_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_flagged(self) -> bool:
        """Returned to the court and not yet dealt with."""
        return self.status == self.Status.RETURNED and self.flag_cleared_at is None


class RecusalRequest(models.Model):
    """A party's application to replace the case's mediator (申请回避), decided by
    the judge. Granting it records the new mediator, whom the rooms then follow."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("recusal", "Waiting for the judge")
        GRANTED = "granted", pgettext_lazy("recusal", "Granted")
        REFUSED = "refused", pgettext_lazy("recusal", "Refused")

    case = models.ForeignKey("mediation.MediationCase", on_delete=models.CASCADE, related_name="recusal_requests")
    party = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("asked at"))
    # The mediator the request is about (the case's mediator when it was made).
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("the judge's reasons"), max_length=2000, blank=True, default="")
    new_mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("new mediator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("application to replace the mediator")
        verbose_name_plural = _("applications to replace the mediator")

    def __str__(self):
        return f"{self.case_id} recusal of {self.mediator_id} ({self.status})"
