from django.core.management.base import BaseCommand, CommandError

from mediation.services.personal_data_keys import rotate_personal_data_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted personal data value (resident ID numbers) under the first key of "
        "PERSONAL_DATA_KEYS, in batches. Run it after putting a new key first; drop the old key once it "
        "reports nothing left under older keys. Exits non-zero if a value cannot be decrypted by any key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        reports = rotate_personal_data_keys(batch_size=batch_size)
        for report in reports:
            self.stdout.write(
                f"{report.label}: {report.rotated} re-encrypted, {report.current} already under the first key"
                + (f", {len(report.unreadable)} unreadable" if report.unreadable else "")
                + "."
            )
        rotated = sum(report.rotated for report in reports)
        self.stdout.write(f"Personal data re-encrypted under the first key: {rotated} values.")
        unreadable = [(report.label, pk) for report in reports for pk in report.unreadable]
        if unreadable:
            listed = ", ".join(f"{label} #{pk}" for label, pk in unreadable[:20])
            raise CommandError(
                f"{len(unreadable)} values cannot be decrypted by any key in PERSONAL_DATA_KEYS ({listed}): "
                "put the key they were encrypted under back in the setting and run the command again."
            )
