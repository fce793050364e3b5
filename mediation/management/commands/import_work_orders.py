from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediation.services.imports import LEDGER_COLUMNS, LedgerFormatError, import_ledger, read_ledger


class Command(BaseCommand):
    help = (
        "Import the historical work-order ledger (CSV or XLSX) with the header "
        + ",".join(LEDGER_COLUMNS)
        + ". Nothing is imported if any row is invalid; re-importing creates no duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            rows = read_ledger(file)
        except LedgerFormatError as error:
            raise CommandError(str(error)) from error
        report = import_ledger(rows)
        if not report.ok:
            for line, reason in report.errors:
                self.stderr.write(f"line {line}: {reason}")
            raise CommandError(f"{len(report.errors)} invalid rows; nothing was imported.")
        self.stdout.write(f"imported: {report.created}; already present: {report.skipped}")
