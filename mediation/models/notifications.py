from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app notice. It stores a kind and parameters, not text, so that each reader
    sees it in their own language (see mediation.notifications)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return f"{self.recipient_id} {self.kind}"


class NotificationPreference(models.Model):
    """One person's channels for one topic of notices (mediation.notifications.TOPICS).
    In-app is always on; without a row the defaults apply (`default_channels`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    topic = models.CharField(max_length=40)
    sms = models.BooleanField(default=False)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="notification_preference_once")]

    def __str__(self):
        return f"{self.user_id} {self.topic} sms={self.sms} email={self.email}"


class SessionReminder(models.Model):
    """A reminder of a session sent to one person, `minutes_before` its start (one of
    SESSION_REMINDER_MINUTES). The constraint makes each one go once, however often
    and on however many machines `remind_sessions` runs."""

    session = models.ForeignKey("mediation.MediationSession", on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    minutes_before = models.PositiveIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "recipient", "minutes_before"], name="session_reminder_once_per_person"
            )
        ]

    def __str__(self):
        return f"{self.session_id} {self.recipient_id} -{self.minutes_before} min"
