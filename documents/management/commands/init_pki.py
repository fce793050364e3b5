from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from documents.pki import generate_platform_pki, load_platform_pki, write_platform_pki


class Command(BaseCommand):
    help = (
        "Create development signing keys (CA, timestamping, platform seal) as PKCS#12 files, unless they exist. "
        "Production loads the court's own files instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace existing keys (old signatures stay valid only against the old CA).",
        )

    def handle(self, *args, force=False, **options):
        files = [settings.PKI_AUTHORITY_FILE, settings.PKI_TIMESTAMPING_FILE, settings.PKI_SEAL_FILE]
        if all(Path(name).exists() for name in files) and not force:
            pki = load_platform_pki()
            self.stdout.write(f"Signing keys present: {pki.authority.certificate.subject.rfc4514_string()}")
            return
        write_platform_pki(generate_platform_pki())
        self.stdout.write(f"Created signing keys in {Path(settings.PKI_AUTHORITY_FILE).parent}")
