from django.core.management.base import BaseCommand

from mediation.services.sessions import remind_upcoming_sessions


class Command(BaseCommand):
    help = (
        "Remind everyone of a mediation session a day and an hour before it starts (SESSION_REMINDER_MINUTES), "
        "in the app and on each person's chosen channels. Idempotent: run it every minute."
    )

    def handle(self, *args, **options):
        report = remind_upcoming_sessions()
        self.stdout.write(f"sessions reminded: {report.sessions}; people reminded: {report.people}")
