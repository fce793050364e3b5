"""The providers' delivery-receipt callbacks (mediation.sms.receipts): parse, check
the secret, record. No session and no CSRF token: the provider is the caller, and the
secret in the address is what authorises it."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mediation.sms import receipts

logger = logging.getLogger(__name__)


def _answer(provider: str, *, ok: bool, detail: str = "", status: int = 200) -> JsonResponse:
    """Each provider reads its own answer format; 0 means "received, do not resend"."""
    if provider == "aliyun":
        body = {"code": 0 if ok else 1, "msg": "接收成功" if ok else detail}
    else:
        body = {"result": 0 if ok else 1, "errmsg": "OK" if ok else detail}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _bounded_body(request) -> bytes:
    limit = settings.SMS_RECEIPT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise receipts.ReceiptRefused(413, "too large")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise receipts.ReceiptRefused(413, "too large")
    return body


@csrf_exempt
@require_POST
def sms_receipt(request, provider: str, token: str | None = None):
    try:
        receipts.authenticate(token)
        found = receipts.parse(provider, _bounded_body(request))
        receipts.check_fresh(found)
        recorded = receipts.record_receipts(provider=provider, receipts=found)
    except receipts.ReceiptRefused as refused:
        logger.warning("SMS receipt callback (%s) refused: %s", provider, refused.reason)
        return _answer(provider, ok=False, detail=refused.reason, status=refused.status)
    logger.info(
        "SMS receipts (%s): %s recorded, %s repeated, %s unknown",
        provider,
        recorded.applied,
        recorded.repeated,
        recorded.unknown,
    )
    return _answer(provider, ok=True)
