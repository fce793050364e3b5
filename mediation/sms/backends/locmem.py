"""Keeps each message in `mediation.sms.backends.locmem.outbox`, for tests, like
Django's locmem mail backend."""

import uuid

outbox: list = []


class SmsBackend:
    def send(self, message) -> str:
        outbox.append(message)
        return f"locmem-{uuid.uuid4().hex[:12]}"
