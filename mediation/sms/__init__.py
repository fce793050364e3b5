"""Text messages to phones, the way Django sends mail.

`send_sms(to, template, params)` queues one message inside the caller's transaction
(a row in SmsMessage, with the text it renders to kept for the record) and hands it
to the transport named by SMS_BACKEND once the transaction commits, so a rolled-back
action texts nobody. A message the transport could not take is retried with backoff
by `send_sms_messages`.

Chinese carriers deliver only templates registered in advance: a message is a
template code (mediation.sms.templates) plus parameters; each provider maps the code
to its own registered template id.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from mediation.models import SmsMessage
from mediation.sms.templates import render as render_template

logger = logging.getLogger(__name__)

BACKENDS = {
    "console": "mediation.sms.backends.console.SmsBackend",
    "locmem": "mediation.sms.backends.locmem.SmsBackend",
}
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 60 * 60
MAX_ATTEMPTS = 8


class SmsNotSent(Exception):
    """The transport did not take the message; `permanent` when retrying cannot help
    (an invalid number, a template the provider refuses)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def get_backend():
    path = BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def send_sms(to: str, template: str, params: dict, *, language: str | None = None) -> SmsMessage:
    """Queue one text message to `to` (E.164) and send it after commit."""
    language = language or settings.SMS_DEFAULT_LANGUAGE
    with translation.override(language):
        body = render_template(template, params)
    message = SmsMessage.objects.create(
        to=str(to),
        template=template,
        params=params,
        language=language,
        body=body,
        backend=settings.SMS_BACKEND,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send_after_commit(message.pk))
    return message


def _send_after_commit(message_id: int) -> None:
    if settings.SMS_SEND_IN_BACKGROUND:
        # Off the request thread: a slow provider must not slow down the page.
        threading.Thread(target=deliver, args=([message_id],), daemon=True).start()
    else:
        deliver([message_id])


def backoff(attempt_count: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempt_count - 1), BACKOFF_CAP_SECONDS))


def _claim(message_ids: list[int] | None, now: dt.datetime) -> list[SmsMessage]:
    """Lease due messages so that concurrent runners do not send the same one twice."""
    lease_until = now + dt.timedelta(seconds=settings.SMS_TIMEOUT_SECONDS * 3)
    with transaction.atomic():
        due = SmsMessage.objects.select_for_update(skip_locked=True).filter(
            status=SmsMessage.Status.QUEUED, next_attempt_at__lte=now
        )
        if message_ids is not None:
            due = due.filter(pk__in=message_ids)
        claimed = list(due.order_by("next_attempt_at", "id")[:200])
        SmsMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(next_attempt_at=lease_until)
    return claimed


def deliver(message_ids: list[int] | None = None) -> int:
    """Hand due messages to the transport; returns how many it took."""
    sent = 0
    backend = get_backend()
    for message in _claim(message_ids, timezone.now()):
        if _send_one(backend, message):
            sent += 1
    return sent


def _send_one(backend, message: SmsMessage) -> bool:
    message.attempt_count += 1
    try:
        provider_id = backend.send(message)
    except SmsNotSent as exc:
        give_up = exc.permanent or message.attempt_count >= MAX_ATTEMPTS
        message.status = SmsMessage.Status.FAILED if give_up else SmsMessage.Status.QUEUED
        message.next_attempt_at = None if give_up else timezone.now() + backoff(message.attempt_count)
        message.last_error = str(exc)[:500]
        message.save(update_fields=["status", "attempt_count", "next_attempt_at", "last_error"])
        logger.warning("SMS %s to template %s not sent: %s", message.pk, message.template, exc)
        return False
    except Exception as exc:  # a transport bug must not lose the message
        message.next_attempt_at = timezone.now() + backoff(message.attempt_count)
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        message.save(update_fields=["attempt_count", "next_attempt_at", "last_error"])
        logger.exception("SMS %s: the transport failed", message.pk)
        return False
    message.status = SmsMessage.Status.SENT
    message.provider_message_id = provider_id or ""
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(
        update_fields=["status", "attempt_count", "provider_message_id", "sent_at", "next_attempt_at", "last_error"]
    )
    return True
