"""Prints each message to standard output: the `make run` default."""

import sys
import uuid


class SmsBackend:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message) -> str:
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(f"SMS to {message.to} [{message.template}]: {message.body}\n")
        self.stream.flush()
        return message_id
