"""Text messages to phones, the way Django sends mail.

`send_sms(to, template, params)` queues one message inside the caller's transaction
(a row in SmsMessage, with the text it renders to kept for the record) and hands it
to the transport named by SMS_BACKEND once the transaction commits, so a rolled-back
action texts nobody. A message the transport could not take is retried with backoff
by `deliver_sms` (a periodic command) and given up after SMS_MAX_ATTEMPTS; the
provider's delivery receipt (mediation.sms.receipts) then marks it delivered or failed.

    queued ──send──▶ sent ──receipt──▶ delivered
      │  ▲             │
      │  └─retry─┘     └──receipt──▶ failed
      └──refused for good, or out of attempts──▶ failed

Chinese carriers deliver only templates registered in advance: a message is a
template code (mediation.sms.templates) plus parameters; each provider maps the code
to its own registered template id (docs/sms.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from mediation.models import SmsMessage
from mediation.sms.templates import SECRET_PARAMS, masked
from mediation.sms.templates import render as render_template

logger = logging.getLogger(__name__)

BACKENDS = {
    "console": "mediation.sms.backends.console.SmsBackend",
    "file": "mediation.sms.backends.file.SmsBackend",
    "locmem": "mediation.sms.backends.locmem.SmsBackend",
    "aliyun": "mediation.sms.backends.aliyun.SmsBackend",
    "tencent": "mediation.sms.backends.tencent.SmsBackend",
}
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 60 * 60


class SmsNotSent(Exception):
    """The transport did not take the message; `permanent` when retrying cannot help
    (an invalid number, a template the provider refuses). `code` is the provider's
    error code, where it gave one."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


def get_backend():
    path = BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def destination() -> str:
    """Where messages go with the configured backend, for `make run` and operators."""
    backend_class = import_string(BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND))
    describe = getattr(backend_class, "describe", None)
    return describe() if describe else f"SMS_BACKEND={settings.SMS_BACKEND}"


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
        backend=settings.SMS_BACKEND[:200],
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send_after_commit(message.pk))
    return message


def _send_after_commit(message_id: int) -> None:
    if settings.SMS_SEND_IN_BACKGROUND:
        # Off the request thread: a slow provider must not slow down the page.
        threading.Thread(target=_deliver_in_background, args=([message_id],), daemon=True).start()
    else:
        deliver([message_id])


def _deliver_in_background(message_ids: list[int]) -> None:
    try:
        deliver(message_ids)
    except Exception:
        # `deliver_sms` retries whatever this first attempt could not finish.
        logger.exception("Immediate SMS delivery failed")
    finally:
        connections.close_all()


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
    """Hand due messages (all, or the given ones if due) to the transport; returns how
    many it took. Idempotent: `deliver_sms` runs it every minute."""
    claimed = _claim(message_ids, timezone.now())
    if not claimed:
        return 0
    sent = 0
    try:
        backend = get_backend()
    except Exception as exc:  # a misconfigured transport: each message counts an attempt
        logger.exception("The SMS transport %r cannot be created", settings.SMS_BACKEND)
        for message in claimed:
            message.attempt_count += 1
            give_up = message.attempt_count >= settings.SMS_MAX_ATTEMPTS
            _not_sent(message, f"transport: {type(exc).__name__}: {exc}", give_up=give_up)
        return 0
    for message in claimed:
        if _send_one(backend, message):
            sent += 1
    return sent


def _send_one(backend, message: SmsMessage) -> bool:
    """One attempt at a claimed (queued, leased) message: sent, queued again for a
    later attempt, or failed for good."""
    message.attempt_count += 1
    try:
        provider_id = backend.send(message)
    except SmsNotSent as exc:
        give_up = exc.permanent or message.attempt_count >= settings.SMS_MAX_ATTEMPTS
        _not_sent(message, str(exc), give_up=give_up)
        logger.warning("SMS %s (%s) not sent: %s", message.pk, message.template, exc)
        return False
    except Exception as exc:  # a transport bug must not lose the message
        give_up = message.attempt_count >= settings.SMS_MAX_ATTEMPTS
        _not_sent(message, f"{type(exc).__name__}: {exc}", give_up=give_up)
        logger.exception("SMS %s: the transport failed", message.pk)
        return False
    message.status = SmsMessage.Status.SENT
    # The transport that took it, whose receipt will name provider_message_id (the
    # setting may have changed since the message was queued).
    message.backend = settings.SMS_BACKEND[:200]
    message.provider_message_id = provider_id or ""
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(
        update_fields=[
            "status",
            "backend",
            "attempt_count",
            "provider_message_id",
            "sent_at",
            "next_attempt_at",
            "last_error",
        ]
    )
    redact(message)
    return True


def redact(message: SmsMessage) -> None:
    """Once a message is out of our hands (sent, or failed for good), mask its secret
    parameters (a one-time code) in the stored row: the record keeps what was sent,
    never the secret. The instance the transport saw keeps them (tests read it)."""
    if message.template not in SECRET_PARAMS:
        return
    params = masked(message.template, message.params)
    with translation.override(message.language):
        body = render_template(message.template, params)
    SmsMessage.objects.filter(pk=message.pk).update(params=params, body=body)


def _not_sent(message: SmsMessage, error: str, *, give_up: bool) -> None:
    now = timezone.now()
    message.last_error = error[:500]
    if give_up:
        message.status = SmsMessage.Status.FAILED
        message.failed_at = now
        message.next_attempt_at = None
        logger.error("SMS %s failed after %s attempt(s); giving up", message.pk, message.attempt_count)
    else:
        message.next_attempt_at = now + backoff(message.attempt_count)
    message.save(update_fields=["status", "attempt_count", "next_attempt_at", "last_error", "failed_at"])
    if give_up:
        redact(message)
