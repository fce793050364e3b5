from django.core.management.base import BaseCommand

from mediation.sms import deliver, destination


class Command(BaseCommand):
    help = (
        "Send due text messages: retries those a provider did not take, with backoff, and "
        "gives up after SMS_MAX_ATTEMPTS. Idempotent: run it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--where", action="store_true", help="only say where text messages go, and stop")

    def handle(self, *args, **options):
        if options["where"]:
            self.stdout.write(destination())
            return
        sent = deliver()
        self.stdout.write(f"sent: {sent}")
