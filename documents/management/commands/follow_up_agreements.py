from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# What follows a sealed agreement on the clock, each a function taking no arguments
# and returning what it did as {label: count}: reminders before the window to apply
# for judicial confirmation closes, the court's deadlines to accept and decide, and
# the obligations' reminders and overdue flags. Each is idempotent.
FOLLOW_UPS = [
    "documents.services.performance.follow_obligations",
    "documents.services.confirmation.remind_confirmation_windows",
    "documents.services.confirmation_court.alert_confirmation_deadlines",
]


class Command(BaseCommand):
    help = (
        "Follow sealed agreements on the clock: judicial confirmation reminders and deadlines, obligations' "
        "reminders and overdue flags. Idempotent: run it every few minutes."
    )

    def handle(self, *args, **options):
        for path in FOLLOW_UPS:
            report = import_string(path)()
            self.stdout.write(", ".join(f"{label}: {count}" for label, count in report.items()) or path)
