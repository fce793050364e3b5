"""Supervision figures: yearly volumes and rates, breakdowns and growth."""

from __future__ import annotations

from django.db import connections
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from mediation.models import Department, WorkOrder, WorkOrderTally
from mediation.models.work_orders import Satisfaction

CLOSED = Q(status=WorkOrder.Status.CLOSED)
CLOSED_ON_TIME = CLOSED & Q(replied_at__lte=F("completion_due"))
SATISFIED = Q(return_visit_satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED])

COUNTS = {
    "received": Count("id"),
    "closed": Count("id", filter=CLOSED),
    "closed_on_time": Count("id", filter=CLOSED_ON_TIME),
    "replied": Count("id", filter=Q(replied_at__isnull=False)),
    "visited": Count("id", filter=CLOSED & Q(return_visited_at__isnull=False)),
    "rated": Count("id", filter=~Q(return_visit_satisfaction="")),
    "satisfied": Count("id", filter=SATISFIED),
}


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _with_rates(row: dict) -> dict:
    return {
        **row,
        "on_time_rate": _rate(row["closed_on_time"], row["closed"]),
        "completion_rate": _rate(row["closed"], row["received"]),
        "reply_rate": _rate(row["replied"], row["received"]),
        "return_visit_rate": _rate(row["visited"], row["closed"]),
        "satisfaction_rate": _rate(row["satisfied"], row["rated"]),
    }


def compound_annual_growth(first: int, last: int, years: int) -> float | None:
    """(last / first) ** (1 / years) - 1: 310 → 1,362 over two years is 1.0961."""
    if first <= 0 or years <= 0:
        return None
    return round((last / first) ** (1 / years) - 1, 4)


def _sum_by(cells: list[dict], field: str) -> dict:
    """Add up the count cells that share a value of `field`."""
    totals: dict = {}
    for cell in cells:
        total = totals.setdefault(cell[field], dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            total[name] += cell[name]
    return totals


def _department_order(department_ids: list, using: str) -> tuple[list, dict]:
    """Department ids in the order the database sorts their names (its collation
    decides where Chinese names go), with the orders of no department (None) where
    the database puts a NULL name."""
    named = list(
        Department.objects.using(using)
        .filter(pk__in=[pk for pk in department_ids if pk is not None])
        .order_by("name")
        .values_list("pk", "name")
    )
    order = [pk for pk, _name in named]
    if None in department_ids:
        order = [*order, None] if connections[using].features.nulls_order_largest else [None, *order]
    return order, dict(named)


def cells_from_orders(orders, year_from: int, year_to: int) -> list[dict]:
    """The counts per year, channel, category and department, counted from the
    orders themselves: what the tally must always equal (rebuild_figures, tests)."""
    span = orders.aggregate(first=Min("received_at"), last=Max("received_at"))
    if span["first"] is None:
        return []
    first_year = max(year_from, timezone.localtime(span["first"]).year)
    last_year = min(year_to, timezone.localtime(span["last"]).year)
    cells = []
    for year in range(first_year, last_year + 1):
        rows = (
            orders.filter(received_at__year=year)
            .values("channel", "category", "department_id")
            .annotate(**COUNTS)
            .order_by()
        )
        cells.extend({"year": year, **row} for row in rows)
    return cells


def tally_cells(year_from: int, year_to: int, department_id: int | None = None) -> list[dict]:
    """The same cells from the running tally kept by database triggers: a few hundred
    rows however many orders there are."""
    tally = WorkOrderTally.objects.filter(year__gte=year_from, year__lte=year_to)
    if department_id is not None:
        tally = tally.filter(department_key=department_id)
    return [
        {
            "year": row["year"],
            "channel": row["channel"],
            "category": row["category"],
            "department_id": row["department_key"] or None,
            **{name: row[name] for name in COUNTS},
        }
        for row in tally.values("year", "channel", "category", "department_key", *COUNTS)
        if row["received"]
    ]


def work_order_figures(*, year_from: int, year_to: int, department_id: int | None = None) -> dict:
    cells = tally_cells(year_from, year_to, department_id)
    empty = dict.fromkeys(COUNTS, 0)
    by_year = _sum_by(cells, "year")
    years = [_with_rates({"year": year, **by_year.get(year, empty)}) for year in range(year_from, year_to + 1)]
    # Channel and category codes sort alike in C, ICU and the usual libc collations.
    by_channel = _sum_by(cells, "channel")
    by_category = _sum_by(cells, "category")
    by_department = _sum_by(cells, "department_id")
    department_ids, names = _department_order(list(by_department), WorkOrderTally.objects.db)
    return {
        "from": year_from,
        "to": year_to,
        "department": department_id,
        "years": years,
        "received_cagr": compound_annual_growth(years[0]["received"], years[-1]["received"], year_to - year_from),
        "by_channel": [_with_rates({"key": key, **by_channel[key]}) for key in sorted(by_channel)],
        "by_category": [_with_rates({"key": key, **by_category[key]}) for key in sorted(by_category)],
        "by_department": [_with_rates({"key": names.get(pk, ""), **by_department[pk]}) for pk in department_ids],
    }
