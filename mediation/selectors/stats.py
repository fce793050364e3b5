"""Supervision figures: yearly volumes and rates, breakdowns and growth."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.db import connections
from django.db.models import Count, F, Max, Min, Q
from django.db.models.functions import ExtractMonth
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


@dataclass(frozen=True)
class Period:
    """A span of whole months the figures cover: a range of years, a quarter or a
    month (court time). `first` and `last` are (year, month)."""

    kind: str  # "year", "quarter" or "month"
    first: tuple[int, int]
    last: tuple[int, int]
    quarter: int | None = None

    @classmethod
    def years(cls, year_from: int, year_to: int) -> Period:
        return cls("year", (year_from, 1), (year_to, 12))

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> Period:
        return cls("quarter", (year, 3 * quarter - 2), (year, 3 * quarter), quarter)

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        return cls("month", (year, month), (year, month))

    @property
    def start(self) -> date:
        return date(*self.first, 1)

    @property
    def end(self) -> date:
        year, month = self.last
        return date(year, month, calendar.monthrange(year, month)[1])

    def rows(self) -> list[tuple[int, int | None]]:
        """The table's rows: each year of a range of years, each month of a quarter
        or month, as (year, month or None)."""
        if self.kind == "year":
            return [(year, None) for year in range(self.first[0], self.last[0] + 1)]
        year = self.first[0]
        return [(year, month) for month in range(self.first[1], self.last[1] + 1)]


def cells_from_orders(orders, year_from: int, year_to: int) -> list[dict]:
    """The counts per month, channel, category and department, counted from the
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
            .annotate(month=ExtractMonth("received_at"))
            .values("month", "channel", "category", "department_id")
            .annotate(**COUNTS)
            .order_by()
        )
        cells.extend({"year": year, **row} for row in rows)
    return cells


def tally_cells(
    year_from: int, year_to: int, department_id: int | None = None, *, period: Period | None = None
) -> list[dict]:
    """The same cells from the running tally kept by database triggers: a few thousand
    rows however many orders there are."""
    period = period or Period.years(year_from, year_to)
    (first_year, first_month), (last_year, last_month) = period.first, period.last
    # The years narrow by the cell key's index; the months within them are a few rows.
    tally = (
        WorkOrderTally.objects.filter(year__gte=first_year, year__lte=last_year)
        .annotate(year_month=F("year") * 100 + F("month"))
        .filter(year_month__gte=first_year * 100 + first_month, year_month__lte=last_year * 100 + last_month)
    )
    if department_id is not None:
        tally = tally.filter(department_key=department_id)
    return [
        {
            "year": row["year"],
            "month": row["month"],
            "channel": row["channel"],
            "category": row["category"],
            "department_id": row["department_key"] or None,
            **{name: row[name] for name in COUNTS},
        }
        for row in tally.values("year", "month", "channel", "category", "department_key", *COUNTS)
        if row["received"]
    ]


def work_order_figures(
    *,
    year_from: int | None = None,
    year_to: int | None = None,
    period: Period | None = None,
    department_id: int | None = None,
) -> dict:
    """The figures of a range of years (`year_from`..`year_to`) or of a `period`:
    `rows` has one row per year of a range of years and one per month of a quarter or
    a month (`years` is the same rows for a range of years, as the API has them)."""
    period = period or Period.years(year_from, year_to)
    cells = tally_cells(period.first[0], period.last[0], department_id, period=period)
    empty = dict.fromkeys(COUNTS, 0)
    if period.kind == "year":
        by_row = _sum_by(cells, "year")
        rows = [_with_rates({"year": year, **by_row.get(year, empty)}) for year, _month in period.rows()]
    else:
        by_row = _sum_by(cells, "month")
        rows = [
            _with_rates({"year": year, "month": month, **by_row.get(month, empty)}) for year, month in period.rows()
        ]
    # Channel and category codes sort alike in C, ICU and the usual libc collations.
    by_channel = _sum_by(cells, "channel")
    by_category = _sum_by(cells, "category")
    by_department = _sum_by(cells, "department_id")
    department_ids, names = _department_order(list(by_department), WorkOrderTally.objects.db)
    first_year, last_year = period.first[0], period.last[0]
    return {
        "from": first_year,
        "to": last_year,
        "period": period,
        "department": department_id,
        "rows": rows,
        "years": rows if period.kind == "year" else [],
        "received_cagr": (
            compound_annual_growth(rows[0]["received"], rows[-1]["received"], last_year - first_year)
            if period.kind == "year"
            else None
        ),
        "by_channel": [_with_rates({"key": key, **by_channel[key]}) for key in sorted(by_channel)],
        "by_category": [_with_rates({"key": key, **by_category[key]}) for key in sorted(by_category)],
        "by_department": [_with_rates({"key": names.get(pk, ""), **by_department[pk]}) for pk in department_ids],
    }
