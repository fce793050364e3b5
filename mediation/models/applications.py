from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from mediation.models.work_orders import WorkOrder


class Application(models.Model):
    """What a citizen filled in at /apply/, beside the work order it created: the
    structured part of a request for mediation that the order's own columns do not
    hold (who applies for whom, the other side, the claim, the consents), kept so
    that a referral carries it into the case and nobody types it again.

    The applicant's name, verified mobile number and ID number are the order's
    requester columns (the ID number encrypted there)."""

    class ApplicantKind(models.TextChoices):
        # The applicant is the party in person: they become the plaintiff.
        PERSON = "person", _("For myself")
        # The applicant acts for a company or organisation, which becomes the
        # plaintiff; the applicant's own ID number stays on the order.
        ORGANISATION = "organisation", _("For a company or organisation")

    class RespondentKind(models.TextChoices):
        PERSON = "person", _("A person")
        ORGANISATION = "organisation", _("A company or organisation")

    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="application")
    applicant_kind = models.CharField(_("applying"), max_length=12, choices=ApplicantKind.choices)
    organisation_name = models.CharField(_("company or organisation"), max_length=200, blank=True, default="")
    organisation_credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True, default="")
    respondent_kind = models.CharField(_("the other side is"), max_length=12, choices=RespondentKind.choices)
    respondent_name = models.CharField(_("the other side's name"), max_length=200)
    respondent_phone = PhoneNumberField(_("the other side's mobile number"), max_length=32, blank=True, default="")
    claim = models.TextField(_("what you ask for"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    # A mediator the applicant chose from the public roster, if any: the referral
    # form preselects them.
    preferred_mediator = models.ForeignKey(
        "mediation.MediatorProfile",
        verbose_name=_("preferred mediator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    consent_online_mediation = models.BooleanField(_("agrees to online mediation"))
    consent_electronic_service = models.BooleanField(_("agrees to electronic service"))
    # When the requester's mobile number was proved by an SMS code (purpose "apply").
    phone_verified_at = models.DateTimeField(_("mobile number verified at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("online application")
        verbose_name_plural = _("online applications")

    def __str__(self):
        return f"{self.work_order_id} application"
