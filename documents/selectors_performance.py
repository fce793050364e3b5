"""Reads of obligations (履行) for the performance page, the API, the to-do list and the
sweep. Who may see the case is `mediation.selectors.cases.case_for`; who may act is
`documents.performance_rules`."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Prefetch, Q, QuerySet

from documents.models import Obligation, ObligationStep
from mediation.models import MediationCase


def obligations_of_case(case: MediationCase) -> QuerySet[Obligation]:
    """By due date, those without one last (on every database), then in the terms' order."""
    return (
        Obligation.objects.filter(case=case)
        .select_related("case", "obligor", "obligee", "agreement")
        .order_by(F("due_date").asc(nulls_last=True), "term_number", "pk")
    )


def obligations_with_steps(case: MediationCase) -> list[Obligation]:
    steps = ObligationStep.objects.select_related("actor", "party").prefetch_related("evidence")
    return list(obligations_of_case(case).prefetch_related(Prefetch("steps", queryset=steps)))


def obligation_with_case(obligation_id: int) -> Obligation | None:
    return Obligation.objects.select_related("case", "obligor", "obligee", "agreement").filter(pk=obligation_id).first()


def obligations_to_follow(today: dt.date) -> list[int]:
    """Ids of the obligations the sweep may have something to do for: a reminder from
    three days before the due date, DUE or DISPUTED past it, or OVERDUE and the judge not yet told."""
    horizon = today + dt.timedelta(days=3)
    return list(
        Obligation.objects.filter(
            Q(status=Obligation.Status.DUE, due_date__lte=horizon)
            | Q(status=Obligation.Status.DISPUTED, due_date__lte=horizon)
            | Q(status=Obligation.Status.OVERDUE)
        )
        .exclude(due_date__isnull=True)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
