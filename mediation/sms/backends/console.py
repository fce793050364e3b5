"""Prints each message to standard output: the `make run` default, so that a
developer reads the codes and notices the platform sends in the server's console."""

import sys
import uuid

RULE = "─" * 60


class SmsBackend:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    @staticmethod
    def describe() -> str:
        return "SMS are printed in this console (SMS_BACKEND=console)."

    def send(self, message) -> str:
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(
            f"\n{RULE}\nSMS to {message.to}  (template {message.template}, message {message.pk})\n"
            f"{message.body}\n{RULE}\n"
        )
        self.stream.flush()
        return message_id
