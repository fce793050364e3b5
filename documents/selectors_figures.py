"""Figures of what follows the seal: judicial confirmation and performance of the
agreed terms, per year, per mediator and per department (the case's mediator's).

How each figure is counted (docs/api.md, `GET /api/v1/stats/after-seal/`, says the same
for readers):

- Judicial confirmation, by the year the application reached the court (`applied_at`,
  court time): `applied`, the applications that year; of those, `confirmed` and
  `rejected` (by a sealed ruling) and `not_accepted` (declined by the court), whatever
  year the decision fell in; `average_days_to_decide`, the mean of calendar days from
  application to the ruling over the confirmed and rejected ones (None without any).
- Obligations, by the year of their due date: `obligations_due`, those falling due
  that year; `performed_on_time`, performed (confirmed by the obligee) on or before
  the due date; `performed_late`, performed after it; `overdue`, not performed and
  past the due date today (overdue, reported but not yet confirmed, or disputed).
- The voluntary performance rate (自动履行率) of a year: of the sealed agreements with
  at least one obligation that fell due that year up to today (`agreements_due`),
  the share (`agreements_performed_voluntarily` / `agreements_due`) whose every such
  obligation was performed on time, without any application for enforcement having
  been made on the case. An obligation reported but not yet confirmed by the obligee
  does not count as performed; an agreement with nothing due yet is not counted.

Everything is counted by the database in a few grouped queries, whatever the number
of cases.
"""

from __future__ import annotations

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone

from documents.models import CourtDocument, JudicialConfirmation, Obligation
from mediation.models import Department, User

Status = JudicialConfirmation.Status

CONFIRMATION_COUNTS = {
    "applied": Count("id"),
    "confirmed": Count("id", filter=Q(status=Status.CONFIRMED)),
    "rejected": Count("id", filter=Q(status=Status.REJECTED)),
    "not_accepted": Count("id", filter=Q(status=Status.NOT_ACCEPTED)),
    "decision_time": Avg(
        ExpressionWrapper(F("decided_at") - F("applied_at"), output_field=DurationField()),
        filter=Q(status__in=[Status.CONFIRMED, Status.REJECTED], decided_at__isnull=False),
    ),
}

ON_TIME = Q(status=Obligation.Status.PERFORMED, performed_on__lte=F("due_date"))
LATE = Q(status=Obligation.Status.PERFORMED, performed_on__gt=F("due_date"))


def _obligation_counts(today) -> dict:
    fallen_due = Q(due_date__lte=today)
    return {
        "obligations_due": Count("id"),
        "performed_on_time": Count("id", filter=ON_TIME),
        "performed_late": Count("id", filter=LATE),
        "overdue": Count("id", filter=Q(status__in=Obligation.OPEN_STATUSES, due_date__lt=today)),
        "agreements_due": Count("agreement", distinct=True, filter=fallen_due),
        # Agreements with an obligation fallen due and not performed on time, or whose
        # case has an application for enforcement: not performed voluntarily.
        "agreements_failed": Count("agreement", distinct=True, filter=fallen_due & (~ON_TIME | Q(enforced=True))),
    }


FIGURES = [
    "applied",
    "confirmed",
    "rejected",
    "not_accepted",
    "average_days_to_decide",
    "obligations_due",
    "performed_on_time",
    "performed_late",
    "overdue",
    "agreements_due",
    "agreements_performed_voluntarily",
    "voluntary_performance_rate",
]
EMPTY = dict.fromkeys(FIGURES, 0) | {"average_days_to_decide": None, "voluntary_performance_rate": None}


def _days(duration) -> float | None:
    return round(duration.total_seconds() / 86400, 1) if duration is not None else None


def _grouped(queryset, year_field: str, group: str | None, counts: dict) -> dict:
    keys = ["year"] + ([group] if group else [])
    rows = queryset.annotate(year=ExtractYear(year_field)).values(*keys).annotate(**counts).order_by()
    return {tuple(row[key] for key in keys): row for row in rows}


def _merge(confirmation: dict | None, obligation: dict | None) -> dict:
    figures = dict(EMPTY)
    if confirmation:
        for name in ("applied", "confirmed", "rejected", "not_accepted"):
            figures[name] = confirmation[name]
        figures["average_days_to_decide"] = _days(confirmation["decision_time"])
    if obligation:
        for name in ("obligations_due", "performed_on_time", "performed_late", "overdue", "agreements_due"):
            figures[name] = obligation[name]
        voluntary = obligation["agreements_due"] - obligation["agreements_failed"]
        figures["agreements_performed_voluntarily"] = voluntary
        figures["voluntary_performance_rate"] = (
            round(voluntary / obligation["agreements_due"], 4) if obligation["agreements_due"] else None
        )
    return figures


def after_seal_figures(*, year_from: int, year_to: int, department_id: int | None = None, today=None) -> dict:
    """The figures of the years `year_from`..`year_to`: `years` one row per year,
    `by_mediator` and `by_department` one row per year and mediator or department
    with anything to count. `department_id` narrows everything to the cases whose
    mediator is of that department (None: the whole court)."""
    today = today or timezone.localdate()
    confirmations = JudicialConfirmation.objects.filter(
        applied_at__isnull=False, applied_at__year__gte=year_from, applied_at__year__lte=year_to
    )
    enforced = CourtDocument.objects.filter(
        case=OuterRef("case"), kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION, status=CourtDocument.Status.SEALED
    )
    obligations = Obligation.objects.filter(
        due_date__isnull=False, due_date__year__gte=year_from, due_date__year__lte=year_to
    ).annotate(enforced=Exists(enforced))
    if department_id is not None:
        confirmations = confirmations.filter(case__mediator__department_id=department_id)
        obligations = obligations.filter(case__mediator__department_id=department_id)
    counts = _obligation_counts(today)
    years = range(year_from, year_to + 1)
    result = {"from": year_from, "to": year_to, "department": department_id}
    by_year_c = _grouped(confirmations, "applied_at", None, CONFIRMATION_COUNTS)
    by_year_o = _grouped(obligations, "due_date", None, counts)
    result["years"] = [{"year": year, **_merge(by_year_c.get((year,)), by_year_o.get((year,)))} for year in years]
    for name, group, model in (
        ("by_mediator", "case__mediator", User),
        ("by_department", "case__mediator__department", Department),
    ):
        grouped_c = _grouped(confirmations, "applied_at", group, CONFIRMATION_COUNTS)
        grouped_o = _grouped(obligations, "due_date", group, counts)
        keys = sorted(set(grouped_c) | set(grouped_o), key=lambda key: (key[0], key[1] is None, key[1] or 0))
        names = {obj.pk: str(obj) for obj in model.objects.filter(pk__in={key[1] for key in keys if key[1]})}
        key_name = "mediator" if group == "case__mediator" else "department"
        result[name] = [
            {
                "year": year,
                key_name: {"id": pk, "name": names.get(pk, "")} if pk else None,
                **_merge(grouped_c.get((year, pk)), grouped_o.get((year, pk))),
            }
            for year, pk in keys
        ]
    return result
