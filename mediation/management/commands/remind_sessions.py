from django.core.management.base import BaseCommand

from mediation.services.sessions import remind_upcoming_sessions


class Command(BaseCommand):
    help = "Remind participants of mediation sessions starting soon. Idempotent: run it every minute."

    def handle(self, *args, **options):
        self.stdout.write(f"sessions reminded: {remind_upcoming_sessions()}")
