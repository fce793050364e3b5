"""Signed outbound webhooks.

An event is queued inside the transaction that causes it (one delivery row per active
endpoint), so it exists exactly when the change does. Delivery happens after commit
and is retried with exponential backoff by `deliver_webhooks`; every attempt is
logged. The body is stored once and signed with HMAC-SHA256 in `X-Signature`, so
every retry sends identical bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from mediation.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WorkOrder

logger = logging.getLogger(__name__)

# Deliveries go straight to the configured URL: no proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 6 * 60 * 60


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def work_order_payload(order: WorkOrder) -> dict:
    return {
        "number": order.number,
        "external_source": order.external_source,
        "external_id": order.external_id,
        "status": order.status,
        "channel": order.channel,
        "category": order.category,
        "received_at": order.received_at.isoformat(),
        "replied_at": order.replied_at.isoformat() if order.replied_at else None,
        "closed_at": order.closed_at.isoformat() if order.closed_at else None,
        "outcome": order.outcome,
    }


EVENTS = WebhookEndpoint.EVENTS


def queue_event(event: str, data: dict) -> list[WebhookDelivery]:
    """One delivery per active endpoint that wants `event` (its event filter), in the
    caller's transaction."""
    now = timezone.now()
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True):
        if not endpoint.wants(event):
            continue
        body = json.dumps(
            {"event": event, "occurred_at": now.isoformat(), "data": data},
            ensure_ascii=False,
            sort_keys=True,
        )
        deliveries.append(
            WebhookDelivery.objects.create(endpoint=endpoint, event=event, body=body, next_attempt_at=now)
        )
    if deliveries and settings.WEBHOOK_DELIVER_ON_COMMIT:
        ids = [delivery.pk for delivery in deliveries]
        # Off the request thread: a slow receiver must not slow down closing an order.
        transaction.on_commit(lambda: threading.Thread(target=_deliver_in_background, args=(ids,), daemon=True).start())
    return deliveries


def backoff(attempt_count: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempt_count - 1), BACKOFF_CAP_SECONDS))


def _claim(delivery_ids: list[int] | None, now: dt.datetime) -> list[WebhookDelivery]:
    """Lease due deliveries so that concurrent runners do not send the same one."""
    lease_until = now + dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3)
    with transaction.atomic():
        due = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        if delivery_ids is not None:
            due = due.filter(pk__in=delivery_ids)
        claimed = list(due.select_related("endpoint")[:100])
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(next_attempt_at=lease_until)
    return claimed


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = delivery.body.encode("utf-8")
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Signature": signature(delivery.endpoint.secret, body),
            "X-Webhook-Event": delivery.event,
            "X-Webhook-Delivery": str(delivery.pk),
            "User-Agent": "court-mediation-webhooks/1",
        },
    )
    try:
        with _OPENER.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, str(error.reason)[:500]
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(error)[:500]


def attempt(delivery: WebhookDelivery) -> bool:
    started = time.monotonic()
    status_code, error = _post(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, response_status=status_code, error=error, duration_ms=duration_ms
        )
        delivery.attempt_count += 1
        now = timezone.now()
        if succeeded:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
        elif delivery.attempt_count >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            logger.error("Webhook delivery %s failed %s times; giving up", delivery.pk, delivery.attempt_count)
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempt_count)
        delivery.save(update_fields=["attempt_count", "status", "delivered_at", "next_attempt_at"])
    return succeeded


def _deliver_in_background(delivery_ids: list[int]) -> None:
    try:
        deliver_many(delivery_ids)
    except Exception:
        # `deliver_webhooks` retries whatever this first attempt could not finish.
        logger.exception("Immediate webhook delivery failed")
    finally:
        connections.close_all()


def deliver_many(delivery_ids: list[int] | None = None, *, now: dt.datetime | None = None) -> int:
    """Attempt every due delivery (or the given ones, if due); returns how many
    succeeded."""
    delivered = 0
    for delivery in _claim(delivery_ids, now or timezone.now()):
        delivered += attempt(delivery)
    return delivered
