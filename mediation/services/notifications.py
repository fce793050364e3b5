from django.utils import timezone

from mediation.models import Notification, User


def mark_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read; another user's id finds nothing."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
