from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.models import Notification, NotificationPreference, User
from mediation.notifications import EMAIL, SMS, topic_has_sms, topics_for


def mark_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read; another user's id finds nothing."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def set_notification_channels(*, user: User, choices: dict[str, dict[str, bool]]) -> list[NotificationPreference]:
    """Save one person's own channel choices, {topic: {"sms": bool, "email": bool}},
    for topics they may choose for (`topics_for`: staff topics for staff, party
    topics for parties). An unknown or someone else's topic is refused and nothing
    is saved. In-app is not a choice: it is always on."""
    allowed = {topic.code for topic in topics_for(user)}
    unknown = sorted(set(choices) - allowed)
    if unknown:
        raise ValidationError(
            _("There is no such kind of notice for you: %(topics)s.") % {"topics": ", ".join(unknown)}
        )
    saved = []
    for topic, wanted in choices.items():
        preference, _created = NotificationPreference.objects.update_or_create(
            user=user,
            topic=topic,
            # A topic never texted keeps SMS off, so that the record says what happens.
            defaults={SMS: bool(wanted.get(SMS)) and topic_has_sms(topic), EMAIL: bool(wanted.get(EMAIL))},
        )
        saved.append(preference)
    return saved
