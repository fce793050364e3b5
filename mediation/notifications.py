"""Every notice of the platform goes through `notify`, which chooses its channels.

A notification stores a kind and parameters; the text is rendered from the catalog
below in the reader's language when shown, mailed or texted. Each kind belongs to a
topic (sessions, documents, deadlines ...); each person chooses per topic whether it
also reaches them by SMS and by email (NotificationPreference, the page
`notification_preferences`). `channels_for` is the one rule:

- in-app: always;
- SMS: for a kind that has an SMS template, to a verified mobile number, when the
  person wants it (default: on for parties, who rarely read email; off for staff,
  who opt in);
- email: to a real address, when the person wants it (default on) and the caller
  does not send its own mail.

Other apps register their topics and kinds with `register_topic` and `register_kind`
so that `mediation` imports nothing from them. Who is told at all is the caller's
rule (people_in_room, the parties of a case ...): a channel never widens it, and an
SMS carries only the template's parameters (court, number, time, link), never a
side-only fact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mediation.models import MediationCase, Notification, NotificationPreference, User
from mediation.roles import is_court_staff
from mediation.sms import send_sms
from mediation.sms.templates import TEMPLATES as SMS_WORDING

logger = logging.getLogger(__name__)

IN_APP = "in_app"
SMS = "sms"
EMAIL = "email"


@dataclass(frozen=True)
class Topic:
    """A group of notice kinds that a person switches on or off per channel."""

    code: str
    label: object
    description: object
    for_staff: bool = True
    for_parties: bool = True


TOPICS: dict[str, Topic] = {}
# kind -> topic code, and kind -> SMS template code (mediation.sms.templates).
KIND_TOPICS: dict[str, str] = {}
KIND_SMS_TEMPLATES: dict[str, str] = {}


def register_topic(code: str, label, description, *, for_staff: bool = True, for_parties: bool = True) -> None:
    TOPICS[code] = Topic(code, label, description, for_staff, for_parties)


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


def register_kind(kind: str, template, *, topic: str | None = None, sms_template: str | None = None) -> None:
    """A kind of notice: its in-app wording, the topic a person's channel choices
    follow, and the SMS template it is texted with (none: never by SMS)."""
    KINDS[kind] = template
    if topic is not None:
        KIND_TOPICS[kind] = topic
    if sms_template is not None:
        KIND_SMS_TEMPLATES[kind] = sms_template


register_topic(
    "work_orders",
    _("Work orders and supervision"),
    _("Orders dispatched, assigned, returned or reopened, supervision notices."),
    for_parties=False,
)
register_topic(
    "deadlines",
    _("Deadline warnings"),
    _("An order's deadline is near or has passed."),
    for_parties=False,
)
register_topic("cases", _("Mediation cases"), _("Cases assigned to you, people joining or leaving, outcomes."))
register_topic(
    "sessions", _("Mediation sessions"), _("Sessions scheduled or cancelled, reminders a day and an hour before.")
)
for _kind in (
    "work_order.dispatched",
    "work_order.assigned",
    "work_order.returned",
    "work_order.awaiting_confirmation",
    "work_order.reopened",
    "work_order.supervised",
    "work_order.supervision_answered",
):
    KIND_TOPICS[_kind] = "work_orders"
for _kind in (
    "case.assigned",
    "case.invited",
    "case.concluded",
    "case.concluded.answer_requester",
    "case.joined",
    "case.removed",
):
    KIND_TOPICS[_kind] = "cases"
for _kind in ("session.scheduled", "session.cancelled", "session.starting"):
    KIND_TOPICS[_kind] = "sessions"
for _kind, _sms in (
    ("deadline.first_contact.warning", "notice_deadline_contact"),
    ("deadline.first_contact.overdue", "notice_deadline_contact_overdue"),
    ("deadline.completion.warning", "notice_deadline_completion"),
    ("deadline.completion.overdue", "notice_deadline_overdue"),
):
    KIND_TOPICS[_kind] = "deadlines"
    KIND_SMS_TEMPLATES[_kind] = _sms
KIND_SMS_TEMPLATES["session.starting"] = "notice_session_reminder"


def topics_for(user: User) -> list[Topic]:
    """The topics a person chooses channels for: staff see the staff topics, parties
    the party topics."""
    staff = is_court_staff(user)
    return [topic for topic in TOPICS.values() if (topic.for_staff if staff else topic.for_parties)]


def topic_has_sms(topic: str) -> bool:
    return any(KIND_TOPICS.get(kind) == topic for kind in KIND_SMS_TEMPLATES)


def has_email_address(user: User) -> bool:
    """Accounts made without an address (by phone) carry a placeholder `.invalid`."""
    return bool(user.email) and not user.email.endswith(".invalid")


def has_verified_phone(user: User) -> bool:
    return bool(user.phone and user.phone_verified_at)


def default_channels(user: User) -> dict[str, bool]:
    """Parties get SMS (they rarely read email); staff opt in to it. Email is on for
    whoever has an address."""
    return {SMS: not is_court_staff(user), EMAIL: True}


_LOOK_UP = object()


def chosen_channels(user: User, topic: str | None, preference=_LOOK_UP) -> dict[str, bool]:
    """What the person wants for a topic: their saved choice, else the defaults.
    `preference` when the caller has loaded it already (None: they saved none)."""
    if preference is _LOOK_UP:
        preference = NotificationPreference.objects.filter(user=user, topic=topic).first() if topic else None
    if preference is None:
        return default_channels(user)
    return {SMS: preference.sms, EMAIL: preference.email}


def channels_for(user: User, kind: str, *, preference=_LOOK_UP, email: bool = True) -> set[str]:
    """The one rule for how a notice of `kind` reaches `user` (see the module's doc).
    `email=False` when the caller sends its own mail (an invitation, a service)."""
    wanted = chosen_channels(user, KIND_TOPICS.get(kind), preference)
    channels = {IN_APP}
    if kind in KIND_SMS_TEMPLATES and wanted[SMS] and has_verified_phone(user):
        channels.add(SMS)
    if email and wanted[EMAIL] and has_email_address(user):
        channels.add(EMAIL)
    return channels


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
    """Tell `recipients` about something, on the channels each has chosen
    (`channels_for`). Notifications and text messages are created inside the caller's
    transaction; mails, texts and pushes leave only once it commits, so a rolled-back
    action tells nobody anything. `email=False` when the caller mails on its own."""
    unique_recipients = {user.pk: user for user in recipients if user is not None and user.is_active}
    notifications = Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, params=params, url=url) for user in unique_recipients.values()]
    )
    if not notifications:
        return notifications
    topic = KIND_TOPICS.get(kind)
    preferences = {}
    if topic is not None:
        preferences = {
            preference.user_id: preference
            for preference in NotificationPreference.objects.filter(user_id__in=unique_recipients, topic=topic)
        }
    emailed = []
    for notification in notifications:
        user = notification.recipient
        channels = channels_for(user, kind, preference=preferences.get(user.pk), email=email)
        if SMS in channels:
            _send_text(user, notification)
        if EMAIL in channels:
            emailed.append(user)
    transaction.on_commit(lambda: _deliver(list(unique_recipients.values()), emailed, kind, params, url))
    return notifications


def sms_parameters(template: str, params: dict, link: str) -> dict:
    """Only what the template names: the court, the case or order number, a time and
    the short link. Carriers take short values only, and a notice's other parameters
    (a document's title, a person's name) stay off the phone."""
    # The names are the same in every language (msgfmt -c checks them).
    names = set(re.findall(r"%\((\w+)\)s", str(SMS_WORDING[template])))
    values = {**{key: str(value) for key, value in params.items()}, "court": settings.COURT_NAME, "link": link}
    return {name: values[name] for name in sorted(names) if name in values}


def notification_link(notification: Notification) -> str:
    """A short absolute link that opens the notice (and marks it read) for its recipient."""
    return settings.SITE_URL + reverse("notification_link", args=[notification.pk])


def _send_text(user: User, notification: Notification) -> None:
    template = KIND_SMS_TEMPLATES[notification.kind]
    send_sms(
        str(user.phone),
        template,
        sms_parameters(template, notification.params, notification_link(notification)),
        language=user.language or settings.SMS_DEFAULT_LANGUAGE,
    )


def _deliver(recipients: list[User], emailed: list[User], kind: str, params: dict, url: str) -> None:
    for user in emailed:
        _send_email(user, kind, params, url)
    for user in recipients:
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
