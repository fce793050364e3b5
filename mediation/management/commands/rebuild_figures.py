from django.core.management.base import BaseCommand
from django.db import transaction

from mediation.models import WorkOrder, WorkOrderTally
from mediation.selectors.stats import COUNTS, cells_from_orders


class Command(BaseCommand):
    help = "Recount the figures' running totals from the work orders (the triggers keep them; this checks or repairs)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report whether the totals match the orders.")

    def handle(self, *args, check=False, **options):
        with transaction.atomic():
            # Lock the orders so that nothing changes while they are counted.
            list(WorkOrder.objects.select_for_update().values_list("pk", flat=True)[:0])
            cells = cells_from_orders(WorkOrder.objects.all(), 1900, 2999)
            expected = {
                (c["year"], c["month"], c["channel"], c["category"], c["department_id"] or 0): tuple(
                    c[n] for n in COUNTS
                )
                for c in cells
            }
            actual = {
                row[:5]: tuple(row[5:])
                for row in WorkOrderTally.objects.values_list(
                    "year", "month", "channel", "category", "department_key", *COUNTS
                )
                if any(row[5:])
            }
            if check:
                if expected != actual:
                    self.stderr.write("The figures' totals differ from the orders.")
                    raise SystemExit(1)
                self.stdout.write(f"The figures' totals match the orders ({len(expected)} cells).")
                return
            WorkOrderTally.objects.all().delete()
            WorkOrderTally.objects.bulk_create(
                WorkOrderTally(
                    year=key[0],
                    month=key[1],
                    channel=key[2],
                    category=key[3],
                    department_key=key[4],
                    **dict(zip(COUNTS, values, strict=True)),
                )
                for key, values in expected.items()
            )
            self.stdout.write(f"Recounted {len(expected)} cells.")
