"""Logging filters named in settings.LOGGING (loaded before the apps: no models here)."""

from __future__ import annotations

import logging

REDACTED = "[SMS_RECEIPT_TOKEN]"


class RedactSecrets(logging.Filter):
    """Keeps SMS_RECEIPT_TOKEN out of the logs. It is the last segment of the SMS
    receipt callbacks' address (docs/sms.md), and Django logs the path of every
    refused request ("Bad Request: /sms/receipts/aliyun/<token>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        from django.conf import settings

        token = getattr(settings, "SMS_RECEIPT_TOKEN", "")
        if token:
            message = record.getMessage()
            if token in message:
                record.msg = message.replace(token, REDACTED)
                record.args = ()
        return True
