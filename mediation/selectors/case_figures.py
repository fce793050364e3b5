"""Mediation figures: what became of the cases referred in each year, per year and per
mediator, organisation, department and cause of action; a mediator's load; the annual
assessment of each mediator.

How each figure is counted (docs/api.md, `GET /api/v1/stats/cases/`, and the figures
page say the same for readers):

- A case counts in the year it was referred (created, court time), whatever year its
  outcome fell in: `referred`, the cases created that year; `accepted`, those of them a
  mediator took (`accepted_at` set: at opening, at referral to a mediator, or when a
  delegated case was accepted); `settled`, `failed`, `withdrawn`, those of them whose
  current status is that outcome (a settled case that went on to judicial confirmation
  is still settled); `concluded`, the three together.
- A case sent back to mediation after the court rejected its settlement (resumed)
  counts by its current status: open again, it is neither settled nor concluded until
  it concludes again, and its days to outcome are counted from its referral to the
  new outcome.
- `settlement_rate` = settled / concluded (None when nothing concluded);
  `average_days_to_outcome`, the mean of calendar days (1 decimal) from referral to
  conclusion over the concluded cases (None without any).
- Breakdowns: by the case's current mediator (None: delegated, no mediator yet), its
  organisation (None: a court mediator without one), its department (the originating
  work order's department, else the judge's; None when neither) and its cause of action
  as written.
- `overdue` (the load and the assessment): open past its mediation deadline today, or
  concluded on a day after its deadline.

Everything is counted by the database in a few grouped queries, whatever the number of
cases.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from mediation.models import (
    Delegation,
    Department,
    MediationCase,
    MediationOrganisation,
    MediatorProfile,
    RecusalRequest,
    User,
)

Status = MediationCase.Status
CONCLUDED_STATUSES = (Status.SETTLED, Status.FAILED, Status.WITHDRAWN)
CONCLUDED = Q(status__in=CONCLUDED_STATUSES)

TIMED = CONCLUDED & Q(concluded_at__isnull=False)
COUNTS = {
    "referred": Count("id"),
    "accepted": Count("id", filter=Q(accepted_at__isnull=False)),
    "settled": Count("id", filter=Q(status=Status.SETTLED)),
    "failed": Count("id", filter=Q(status=Status.FAILED)),
    "withdrawn": Count("id", filter=Q(status=Status.WITHDRAWN)),
    # The concluded cases with a conclusion time, and their mean time to it: the
    # cells' means, weighted by these counts, add up to the mean of any group of cells.
    "timed": Count("id", filter=TIMED),
    "time_to_outcome": Avg(
        ExpressionWrapper(F("concluded_at") - F("created_at"), output_field=DurationField()), filter=TIMED
    ),
}
SUMMED = ("referred", "accepted", "settled", "failed", "withdrawn", "timed", "seconds")
FIGURES = [
    "referred",
    "accepted",
    "settled",
    "failed",
    "withdrawn",
    "concluded",
    "settlement_rate",
    "average_days_to_outcome",
]
# The breakdowns: the result's key, and the key of the cell (and of each row) it groups by.
BREAKDOWNS = {
    "by_mediator": "mediator",
    "by_organisation": "organisation",
    "by_department": "department",
    "by_cause": "cause_of_action",
}


def _department():
    """A case's department: its work order's, else its judge's."""
    return Coalesce("work_order__department_id", "judge__department_id")


def cases_in_scope(*, department_id: int | None = None, mediator_id: int | None = None):
    cases = MediationCase.objects.all()
    if department_id is not None:
        cases = cases.annotate(department_key=_department()).filter(department_key=department_id)
    if mediator_id is not None:
        cases = cases.filter(mediator_id=mediator_id)
    return cases


def overdue_filter(today: dt.date) -> Q:
    """Open past its deadline today, or concluded on a day after its deadline."""
    return Q(status__in=MediationCase.OPEN_STATUSES, deadline__lt=today) | (
        CONCLUDED & Q(concluded_at__isnull=False, concluded_at__date__gt=F("deadline"))
    )


def _figures(row: dict | None) -> dict:
    """The figures of a sum of cells (or of none)."""
    row = row or {}
    settled, failed, withdrawn = (row.get(name, 0) for name in ("settled", "failed", "withdrawn"))
    concluded = settled + failed + withdrawn
    timed = row.get("timed", 0)
    return {
        "referred": row.get("referred", 0),
        "accepted": row.get("accepted", 0),
        "settled": settled,
        "failed": failed,
        "withdrawn": withdrawn,
        "concluded": concluded,
        "settlement_rate": round(settled / concluded, 4) if concluded else None,
        "average_days_to_outcome": round(row["seconds"] / timed / 86400, 1) if timed else None,
    }


def cells(cases) -> list[dict]:
    """The counts per year of referral, mediator, organisation, department and cause of
    action, in one grouped query: every figure and breakdown is a sum of these."""
    rows = (
        cases.annotate(year=ExtractYear("created_at"), department=_department())
        .values("year", "mediator_id", "organisation_id", "department", "cause_of_action")
        .annotate(**COUNTS)
        .order_by()
    )
    return [
        {
            "year": row["year"],
            "mediator": row["mediator_id"],
            "organisation": row["organisation_id"],
            "department": row["department"],
            "cause_of_action": row["cause_of_action"],
            **{name: row[name] for name in SUMMED if name != "seconds"},
            "seconds": row["time_to_outcome"].total_seconds() * row["timed"] if row["timed"] else 0,
        }
        for row in rows
    ]


def _sum_by(cell_rows: list[dict], *fields: str) -> dict:
    totals: dict = {}
    for cell in cell_rows:
        total = totals.setdefault(tuple(cell[field] for field in fields), dict.fromkeys(SUMMED, 0))
        for name in SUMMED:
            total[name] += cell[name]
    return totals


def _names(group: str, ids: set) -> dict:
    model = {"mediator": User, "organisation": MediationOrganisation, "department": Department}[group]
    return {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}


def case_figures(
    *, year_from: int, year_to: int, department_id: int | None = None, mediator_id: int | None = None
) -> dict:
    """The figures of the cases referred in `year_from`..`year_to`: `years`, one row per
    year; `by_mediator`, `by_organisation`, `by_department`, `by_cause`, one row per
    year and group with any case. `department_id` narrows to the cases of that
    department, `mediator_id` to that mediator's."""
    cell_rows = cells(
        cases_in_scope(department_id=department_id, mediator_id=mediator_id).filter(
            created_at__year__gte=year_from, created_at__year__lte=year_to
        )
    )
    by_year = _sum_by(cell_rows, "year")
    result = {
        "from": year_from,
        "to": year_to,
        "department": department_id,
        "years": [{"year": year, **_figures(by_year.get((year,)))} for year in range(year_from, year_to + 1)],
    }
    for name, group in BREAKDOWNS.items():
        grouped = _sum_by(cell_rows, "year", group)
        if group == "cause_of_action":
            keys = sorted(grouped)
            result[name] = [{"year": year, group: cause, **_figures(grouped[year, cause])} for year, cause in keys]
            continue
        names = _names(group, {pk for _year, pk in grouped if pk is not None})
        # Named groups by name, then the "none" bucket, within each year.
        keys = sorted(grouped, key=lambda key: (key[0], key[1] is None, names.get(key[1], ""), key[1] or 0))
        result[name] = [
            {
                "year": year,
                group: {"id": pk, "name": names.get(pk, "")} if pk is not None else None,
                **_figures(grouped[year, pk]),
            }
            for year, pk in keys
        ]
    return result


def mediator_load(mediator: User, *, today: dt.date | None = None) -> dict:
    """A mediator's work now: their open cases by status, the delegated cases
    dispatched to them and waiting for their acceptance, and their overdue open cases."""
    today = today or timezone.localdate()
    mine = MediationCase.objects.filter(mediator=mediator, status__in=MediationCase.MEDIATING_STATUSES)
    by_status = dict(mine.values_list("status").annotate(count=Count("id")).order_by())
    return {
        "open_by_status": [
            {"status": status, "label": Status(status).label, "count": by_status.get(status, 0)}
            for status in MediationCase.MEDIATING_STATUSES
        ],
        "open": sum(by_status.values()),
        "awaiting_acceptance": Delegation.objects.filter(
            dispatched_to=mediator, status=Delegation.Status.AWAITING_ACCEPTANCE
        ).count(),
        "overdue": mine.filter(deadline__lt=today).count(),
    }


def assessment(*, year: int, department_id: int | None = None, today: dt.date | None = None) -> list[dict]:
    """Each mediator's figures for the cases referred in `year`: the case figures, the
    overdue cases among them, the applications to replace them (申请回避) granted in
    the year, and their organisation (the roster's). A mediator appears with anything
    to count, or with a roster appointment covering part of the year (the whole
    court's view only)."""
    today = today or timezone.localdate()
    cases = cases_in_scope(department_id=department_id).filter(created_at__year=year, mediator__isnull=False)
    rows = {
        row["mediator_id"]: {
            **row,
            "seconds": row["time_to_outcome"].total_seconds() * row["timed"] if row["timed"] else 0,
        }
        for row in cases.values("mediator_id")
        .annotate(**COUNTS, overdue=Count("id", filter=overdue_filter(today)))
        .order_by()
    }
    recusals = RecusalRequest.objects.filter(status=RecusalRequest.Status.GRANTED, decided_at__year=year)
    if department_id is not None:
        recusals = recusals.annotate(
            department_key=Coalesce("case__work_order__department_id", "case__judge__department_id")
        ).filter(department_key=department_id)
    granted = dict(recusals.values_list("mediator_id").annotate(count=Count("id")).order_by())
    mediator_ids = set(rows) | set(granted)
    if department_id is None:
        mediator_ids |= set(
            MediatorProfile.objects.filter(
                term_starts_on__lte=dt.date(year, 12, 31), term_ends_on__gte=dt.date(year, 1, 1)
            ).values_list("user_id", flat=True)
        )
    people = User.objects.filter(pk__in=mediator_ids).select_related("mediator_profile__organisation")
    result = []
    for person in people:
        profile = getattr(person, "mediator_profile", None)
        row = rows.get(person.pk)
        result.append(
            {
                "mediator": {"id": person.pk, "name": str(person)},
                "organisation": (
                    {"id": profile.organisation_id, "name": profile.organisation.name} if profile else None
                ),
                **_figures(row),
                "overdue": row["overdue"] if row else 0,
                "recusals_granted": granted.get(person.pk, 0),
            }
        )
    result.sort(key=lambda item: (item["mediator"]["name"], item["mediator"]["id"]))
    return result
