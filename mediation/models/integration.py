from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApiToken(models.Model):
    """A bearer token of an integration system (hotline, WeChat). Only the SHA-256 of
    the token is stored; the token itself is shown once by `create_api_token`."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token")
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(_("token starts with"), max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return self.name


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128, help_text=_("Shared secret for X-Signature."))
    is_active = models.BooleanField(_("active"), default=True)
    # The events this endpoint receives (e.g. ["case.settled", "work_order.closed"]);
    # empty: every event (mediation.services.webhooks.EVENTS).
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_('The events to send, e.g. ["case.settled"]. Empty: every event.'),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.name

    # Every event the platform sends, as the event filter names them (docs/api.md).
    EVENTS = (
        "work_order.closed",
        "case.referred",
        "case.settled",
        "case.failed",
        "agreement.sealed",
        "confirmation.decided",
    )

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events

    def clean(self):
        if not isinstance(self.events, list) or any(event not in self.EVENTS for event in self.events):
            raise ValidationError(
                {"events": _("List the events to send, from: %(events)s.") % {"events": ", ".join(self.EVENTS)}}
            )


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
        DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
        FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=60)
    # The exact bytes that are signed and sent, kept so every retry is identical.
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(auto_now_add=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.delivery_id} at {self.attempted_at}: {self.response_status or self.error}"
