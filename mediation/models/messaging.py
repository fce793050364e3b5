"""Text messages (SMS) and the one-time codes they carry.

An SMS is a template code plus parameters, as Chinese carriers deliver only registered
templates; the text it rendered to is kept for the record. Each one is a row before it
is sent, so a provider being down loses nothing (see mediation.sms).

A one-time code is kept only as a keyed hash (see mediation.verification_codes)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SmsMessage(models.Model):
    """One text message and its delivery: queued → sent → delivered, or failed."""

    class Status(models.TextChoices):
        # Waiting for the transport: new, or to be retried at next_attempt_at.
        QUEUED = "queued", pgettext_lazy("sms", "Queued")
        # The provider took it (provider_message_id); no receipt has come yet.
        SENT = "sent", pgettext_lazy("sms", "Sent")
        # The provider's receipt says the phone received it. Final.
        DELIVERED = "delivered", pgettext_lazy("sms", "Delivered")
        # Final: the provider refused it for good, every attempt failed, or the
        # provider's receipt says the phone did not receive it.
        FAILED = "failed", pgettext_lazy("sms", "Failed")

    # The only moves a message makes (mediation.sms changes status nowhere else).
    TRANSITIONS = {
        Status.QUEUED: {Status.SENT, Status.FAILED},
        Status.SENT: {Status.DELIVERED, Status.FAILED},
        Status.DELIVERED: set(),
        Status.FAILED: set(),
    }

    to = models.CharField(_("to"), max_length=32)
    template = models.CharField(_("template"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    # The text the template rendered to, in the recipient's language, as sent.
    body = models.TextField(_("text"))
    # The transport that took it: a name of mediation.sms.BACKENDS or a dotted path.
    backend = models.CharField(max_length=200, blank=True, default="")
    provider_message_id = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # The provider's delivery-receipt code (DELIVERED, DELIVRD, UNDELIV, MK:0001 ...).
    receipt_code = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sms_due_idx"),
            models.Index(fields=["provider_message_id"], name="sms_provider_id_idx"),
            models.Index(fields=["to", "created_at"], name="sms_to_idx"),
        ]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")

    def __str__(self):
        return f"{self.template} → {self.to} ({self.status})"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]


class SmsReceipt(models.Model):
    """A provider's delivery receipt, as it arrived: one per message and provider, so a
    repeated receipt is recognised and changes nothing."""

    provider = models.CharField(max_length=20)
    provider_message_id = models.CharField(max_length=100)
    message = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="receipts")
    delivered = models.BooleanField()
    code = models.CharField(max_length=60, blank=True, default="")
    reported_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_message_id"], name="sms_receipt_once"),
        ]

    def __str__(self):
        return f"{self.provider} receipt {self.provider_message_id}"


class PhoneCode(models.Model):
    """A one-time code sent to a phone for one purpose (sign in, apply, track, accept
    an invitation, sign). Only a keyed hash of the code is stored."""

    phone = models.CharField(max_length=32)
    purpose = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone", "created_at"], name="phonecode_phone_idx"),
            models.Index(fields=["client_address", "created_at"], name="phonecode_address_idx"),
        ]

    def __str__(self):
        return f"{self.purpose} code for {self.phone}"
