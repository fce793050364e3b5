from django.core.management.base import BaseCommand

from documents.selectors import agreements_waiting_for_seal
from documents.services.agreements import seal_agreement


class Command(BaseCommand):
    help = "Seal agreements whose signatures are all on but were not sealed (after a crash). Idempotent."

    def handle(self, *args, **options):
        sealed = 0
        for agreement in agreements_waiting_for_seal():
            seal_agreement(agreement=agreement)
            sealed += 1
        self.stdout.write(f"agreements sealed: {sealed}")
