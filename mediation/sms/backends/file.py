"""Writes each message as a JSON file {"id", "to", "body", "template", "sent_at"}
under SMS_FILE_DIR: for a staging server or a demo where someone reads the messages
without a provider. A file appears whole or not at all (written to a temporary name
in the same directory, then renamed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mediation.sms import SmsNotSent


class SmsBackend:
    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory or settings.SMS_FILE_DIR)

    @staticmethod
    def describe() -> str:
        return f"SMS are written as JSON files to {settings.SMS_FILE_DIR} (SMS_BACKEND=file)."

    def send(self, message) -> str:
        sent_at = timezone.now()
        message_id = f"file-{message.pk}-{uuid.uuid4().hex[:8]}"
        record = {
            "id": message_id,
            "to": message.to,
            "body": message.body,
            "template": message.template,
            "sent_at": sent_at.isoformat(),
        }
        name = f"{sent_at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}-{message_id}.json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".sms-", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                    json.dump(record, stream, ensure_ascii=False, indent=2)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, self.directory / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A full disk or a missing permission: retried later, like a provider outage.
            raise SmsNotSent(f"cannot write {self.directory}: {exc}") from exc
        return message_id


def read_messages(directory: str | os.PathLike | None = None) -> list[dict]:
    """The messages written so far, oldest first: for a test or a demo reading what a
    server in another process sent."""
    folder = Path(directory or settings.SMS_FILE_DIR)
    if not folder.is_dir():
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
