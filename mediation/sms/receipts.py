"""Providers' delivery receipts: which sent message reached its phone.

Alibaba Cloud (HTTP batch push of SmsReport) and Tencent Cloud (the SMS status
callback) POST a JSON array of receipts to an address configured in their consoles.
Neither signs its pushes, so what authenticates one is a secret only this deployment
and the provider's console know: SMS_RECEIPT_TOKEN, the last segment of the address,
compared in constant time (docs/sms.md). Then, before anything changes:

- the body is bounded (SMS_RECEIPT_MAX_BYTES, SMS_RECEIPT_MAX_COUNT receipts) and must
  parse, every receipt with its message id, outcome and report time;
- a receipt reported longer ago than SMS_RECEIPT_MAX_AGE_SECONDS (or in the future)
  makes the whole callback stale;
- each message takes one receipt (SmsReceipt, unique per provider and message id): a
  callback whose every known receipt was already recorded is a replay.

A refused callback changes nothing. An accepted one records each receipt and moves its
message sent → delivered or sent → failed (mediation.models.SmsMessage.TRANSITIONS);
receipts naming messages this platform did not send (another system on the same
account) are acknowledged and ignored.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mediation.models import SmsMessage, SmsReceipt

logger = logging.getLogger(__name__)

# Both providers write times as Beijing time without a zone: "2026-12-07 10:03:04".
PROVIDER_TIME_ZONE = ZoneInfo("Asia/Shanghai")
PROVIDER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# A provider's clock ahead of ours by up to this much is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_ID_LENGTH = 100


class ReceiptRefused(Exception):
    """A callback that changes nothing: `status` is the HTTP answer, `reason` a code."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Receipt:
    provider_message_id: str
    delivered: bool
    code: str
    reported_at: dt.datetime


@dataclass(frozen=True)
class Recorded:
    applied: int
    repeated: int
    unknown: int


def authenticate(token: str | None) -> None:
    """The callback address's secret is this deployment's SMS_RECEIPT_TOKEN; without
    one configured, every receipt is refused."""
    expected = settings.SMS_RECEIPT_TOKEN
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ReceiptRefused(403, "bad_token")


def _text(item: dict, key: str, *, required: bool = True, limit: int = MAX_ID_LENGTH) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ReceiptRefused(400, f"malformed: {key}")
    return str(value).strip()[:limit]


def _time(item: dict, key: str) -> dt.datetime:
    try:
        naive = dt.datetime.strptime(_text(item, key), PROVIDER_TIME_FORMAT)
    except ValueError as exc:
        raise ReceiptRefused(400, f"malformed: {key}") from exc
    return naive.replace(tzinfo=PROVIDER_TIME_ZONE)


def _aliyun(item: dict) -> Receipt:
    """[{"phone_number", "send_time", "report_time", "success": true, "err_code":
    "DELIVERED", "err_msg", "sms_size", "biz_id", "out_id"}]"""
    if not isinstance(item.get("success"), bool):
        raise ReceiptRefused(400, "malformed: success")
    return Receipt(
        provider_message_id=_text(item, "biz_id"),
        delivered=item["success"],
        code=_text(item, "err_code", required=False, limit=60),
        reported_at=_time(item, "report_time"),
    )


def _tencent(item: dict) -> Receipt:
    """[{"user_receive_time", "nationcode", "mobile", "report_status": "SUCCESS" |
    "FAIL", "errmsg": "DELIVRD", "description", "sid"}]"""
    status = item.get("report_status")
    if status not in ("SUCCESS", "FAIL"):
        raise ReceiptRefused(400, "malformed: report_status")
    return Receipt(
        provider_message_id=_text(item, "sid"),
        delivered=status == "SUCCESS",
        code=_text(item, "errmsg", required=False, limit=60),
        reported_at=_time(item, "user_receive_time"),
    )


PARSERS = {"aliyun": _aliyun, "tencent": _tencent}


def parse(provider: str, body: bytes) -> list[Receipt]:
    """The receipts of a callback body, or ReceiptRefused(400) if any is malformed."""
    try:
        items = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReceiptRefused(400, "malformed: not JSON") from exc
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ReceiptRefused(400, "malformed: not a list of receipts")
    if len(items) > settings.SMS_RECEIPT_MAX_COUNT:
        raise ReceiptRefused(413, "too many receipts")
    if not all(isinstance(item, dict) for item in items):
        raise ReceiptRefused(400, "malformed: not a list of receipts")
    return [PARSERS[provider](item) for item in items]


def check_fresh(receipts: list[Receipt], *, now: dt.datetime | None = None) -> None:
    """A callback carrying a receipt reported too long ago, or later than now, is stale:
    a recorded callback played again after the window changes nothing."""
    now = now or timezone.now()
    oldest = now - dt.timedelta(seconds=settings.SMS_RECEIPT_MAX_AGE_SECONDS)
    for receipt in receipts:
        if receipt.reported_at < oldest or receipt.reported_at > now + CLOCK_SKEW:
            raise ReceiptRefused(400, "stale")


@transaction.atomic
def record_receipts(*, provider: str, receipts: list[Receipt]) -> Recorded:
    """Record each receipt once and move its message to delivered or failed.

    Locks each message row named (so two callbacks for one message serialise). Raises
    ReceiptRefused(400, "replayed"), changing nothing, when no receipt was new and at
    least one had been recorded before."""
    applied = repeated = unknown = 0
    now = timezone.now()
    for receipt in receipts:
        message = (
            SmsMessage.objects.select_for_update()
            .filter(backend=provider, provider_message_id=receipt.provider_message_id)
            .first()
        )
        if message is None:
            unknown += 1
            continue
        if SmsReceipt.objects.filter(provider=provider, provider_message_id=receipt.provider_message_id).exists():
            repeated += 1
            continue
        SmsReceipt.objects.create(
            provider=provider,
            provider_message_id=receipt.provider_message_id,
            message=message,
            delivered=receipt.delivered,
            code=receipt.code,
            reported_at=receipt.reported_at,
        )
        applied += 1
        _apply(message, receipt, now)
    if repeated and not applied:
        raise ReceiptRefused(400, "replayed")
    return Recorded(applied=applied, repeated=repeated, unknown=unknown)


def _apply(message: SmsMessage, receipt: Receipt, now: dt.datetime) -> None:
    target = SmsMessage.Status.DELIVERED if receipt.delivered else SmsMessage.Status.FAILED
    message.receipt_code = receipt.code
    fields = ["receipt_code"]
    if message.can_become(target):
        message.status = target
        if receipt.delivered:
            message.delivered_at = receipt.reported_at
            fields += ["status", "delivered_at"]
        else:
            message.failed_at = now
            message.last_error = f"receipt: {receipt.code}"[:500]
            fields += ["status", "failed_at", "last_error"]
    else:
        # Recorded as it came, but a final message stays final.
        logger.warning("SMS %s is %s; its %s receipt changes nothing", message.pk, message.status, target)
    message.save(update_fields=fields)
