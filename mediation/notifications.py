"""In-app and email notifications.

A notification stores a kind and parameters; the text is rendered from the catalog
below in the reader's language when shown or mailed. Other apps register their kinds
with `register_kind` so that `mediation` imports nothing from them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mediation.models import MediationCase, Notification, User

logger = logging.getLogger(__name__)

KINDS = {
    "work_order.dispatched": _("Work order %(number)s was dispatched to %(department)s."),
    "work_order.assigned": _("Work order %(number)s was assigned to you."),
    "work_order.returned": _("Work order %(number)s was returned by %(department)s: %(reason)s"),
    "work_order.awaiting_confirmation": _("Work order %(number)s awaits your confirmation."),
    "work_order.reopened": _("Work order %(number)s was reopened after an unsatisfied return visit."),
    "work_order.supervised": _("Supervision notice on work order %(number)s: answer by %(due)s."),
    "work_order.supervision_answered": _("The supervision notice on work order %(number)s was answered."),
    "deadline.first_contact.warning": _("Work order %(number)s: contact the requester by %(due)s."),
    "deadline.first_contact.overdue": _("Work order %(number)s: the requester was not contacted in time."),
    "deadline.completion.warning": _("Work order %(number)s must be completed by %(due)s."),
    "deadline.completion.overdue": _("Work order %(number)s is overdue."),
    "case.assigned": _("Mediation case %(number)s was assigned to you."),
    "case.invited": _("You were invited to take part in mediation case %(number)s: open the link in the email."),
    "case.concluded": _("Work order %(number)s: mediation case %(case)s ended (%(outcome)s)."),
    "case.concluded.answer_requester": _(
        "Work order %(number)s: mediation case %(case)s ended (%(outcome)s). The platform has not told the "
        "requester: call %(requester)s on %(phone)s, then record your answer on the order."
    ),
    "case.joined": _("%(name)s joined mediation case %(number)s."),
    "case.removed": _("You no longer take part in mediation case %(number)s."),
    "session.scheduled": _("A mediation session of case %(number)s is scheduled for %(starts)s."),
    "session.cancelled": _("The mediation session of case %(number)s on %(starts)s is cancelled."),
    "session.starting": _("The mediation session of case %(number)s starts at %(starts)s."),
}


# Parameters stored as codes and shown by their label, in the reader's language.
PARAMETER_LABELS = {"outcome": MediationCase.Status}


def register_kind(kind: str, template) -> None:
    KINDS[kind] = template


def render(kind: str, params: dict) -> str:
    template = KINDS.get(kind)
    if template is None:
        return kind
    labelled = dict(params)
    for name, choices in PARAMETER_LABELS.items():
        if labelled.get(name) in choices.values:
            labelled[name] = choices(labelled[name]).label
    try:
        return str(template) % labelled
    except (KeyError, TypeError, ValueError):
        return str(template)


def user_group_name(user_id: int) -> str:
    """The channel-layer group of one user's sockets (notifications, forced closes)."""
    return f"user.{user_id}"


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    params: dict,
    url: str = "",
    email: bool = True,
) -> list[Notification]:
    """Create notifications inside the caller's transaction; mail and push them only
    once it commits, so a rolled-back action tells nobody anything."""
    unique_recipients = {user.pk: user for user in recipients if user is not None and user.is_active}
    notifications = Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, params=params, url=url) for user in unique_recipients.values()]
    )
    if notifications:
        transaction.on_commit(lambda: _deliver(list(unique_recipients.values()), kind, params, url, email))
    return notifications


def _deliver(recipients: list[User], kind: str, params: dict, url: str, email: bool) -> None:
    for user in recipients:
        if email and user.email and not user.email.endswith(".invalid"):
            _send_email(user, kind, params, url)
        push_to_user(user.pk, {"type": "notification.created", "kind": kind, "params": params, "url": url})


def court_details() -> dict:
    """The court as every mail names it: in its signature and its sender."""
    return {
        "court_name": settings.COURT_NAME,
        "court_phone": settings.COURT_CONTACT_PHONE,
        "court_address": settings.COURT_ADDRESS,
    }


def signed_by_the_court(subject: str, body: str) -> tuple[str, str]:
    """A mail's subject with the court's name in front, and its body with the court's
    signature (phone, address) below, in the active language."""
    signature = render_to_string("emails/signature.txt", court_details()).strip()
    return f"[{settings.COURT_NAME}] {subject}", f"{body.strip()}\n\n{signature}\n"


def render_email(user: User, kind: str, params: dict, url: str) -> tuple[str, str]:
    """A notification's mail, (subject, body), in the recipient's language: a greeting,
    the notice, a link to it and the court's signature."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        notice = render(kind, params)
        body = render_to_string(
            "emails/notification.txt",
            {
                **court_details(),
                "name": user.get_full_name(),
                "notice": notice,
                "link": f"{settings.SITE_URL}{url}" if url else "",
            },
        )
    return f"[{settings.COURT_NAME}] {notice[:80]}", body.strip() + "\n"


def _send_email(user: User, kind: str, params: dict, url: str) -> None:
    subject, body = render_email(user, kind, params, url)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        # A mail server being down must not undo or hide the in-app notification.
        logger.exception("Could not email notification %s to user %s", kind, user.pk)


def push_to_user(user_id: int, event: dict) -> None:
    """Send an event to every open socket of one user. Best effort: the notification
    is already stored and shows on the next page load."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group_name(user_id), event)
    except Exception:
        logger.exception("Could not push an event to user %s", user_id)


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
