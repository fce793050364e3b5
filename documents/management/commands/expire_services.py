from django.core.management.base import BaseCommand

from documents.services.serving import expire_services


class Command(BaseCommand):
    help = "Mark electronic services not acknowledged by their deadline as expired. Idempotent."

    def handle(self, *args, **options):
        self.stdout.write(f"services expired: {expire_services()}")
