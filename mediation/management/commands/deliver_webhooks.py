from django.core.management.base import BaseCommand

from mediation.services.webhooks import deliver_many


class Command(BaseCommand):
    help = "Send due webhook deliveries (retries with backoff). Idempotent: run it every minute."

    def handle(self, *args, **options):
        delivered = deliver_many()
        self.stdout.write(f"delivered: {delivered}")
