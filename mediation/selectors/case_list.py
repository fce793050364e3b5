"""Reads behind the list of mediation cases: who sees which cases is
`selectors.cases.visible_cases`; this module searches, filters and orders them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from mediation import phones
from mediation.models import MediationCase, Party, User
from mediation.roles import Role
from mediation.selectors.cases import visible_cases
from mediation.services.work_orders import normalise_case_number

# A name fragment shorter than this is too common to narrow anything ("王"): it
# matches whole names only. Trigram indexes need three characters anyway, but a
# two-character Chinese given name ("李娜") is a whole name people type.
PARTIAL_NAME_MIN_CHARACTERS = 2
# From this many characters a name is found by any part of it ("文化传媒").
PARTIAL_NAME_ANYWHERE_CHARACTERS = 3
# Part of a case number: at least this many characters ("调123", "2026").
PARTIAL_NUMBER_MIN_CHARACTERS = 3
QUERY_MAX_LENGTH = 100
# A search naming more mediators than this is about parties, not mediators.
MAX_NAMED_MEDIATORS = 20
CASE_NUMBER_PATTERN = re.compile(r"^\(\d{4}\).+号$")


def overdue_cases_q(today: dt.date) -> Q:
    """An open case past its mediation deadline (the deadline is the last day it may
    run). The one rule of "overdue" for the case list; the status test comes first so
    that PostgreSQL answers it from case_status_deadline_idx."""
    return Q(status__in=MediationCase.OPEN_STATUSES, deadline__lt=today)


@dataclass
class CaseListFilters:
    query: str = ""
    status: str = ""
    mediator: int | None = None
    organisation: int | None = None
    overdue: bool = False

    @property
    def any(self) -> bool:
        return bool(self.query.strip() or self.status or self.mediator or self.organisation or self.overdue)


def case_search_condition(query: str) -> Q:
    """One box for case number, party name, party phone and mediator name; the shape
    of the text decides which index answers:

    - a whole phone number however typed ("138 1234 5678", "+86 138..."): the
      parties with that number in E.164 (party_phone_idx);
    - text without digits: a party's or a mediator's name, whole for one
      character, by its start for two, by any part from three (party_name_trgm_idx,
      a trigram index on PostgreSQL);
    - otherwise a case number, whole or in part (case_number_trgm_idx)."""
    text = query.strip()[:QUERY_MAX_LENGTH]
    if not text:
        return Q()
    phone = phones.parse(text) if phones.PHONE_LIKE.match(text) else None
    if phone is not None:
        return Q(pk__in=Party.objects.filter(phone=phone.as_e164).values("case_id"))
    if not any(character.isdigit() for character in text):
        if len(text) < PARTIAL_NAME_MIN_CHARACTERS:
            names = Party.objects.filter(name__iexact=text)
            mediators = User.objects.filter(full_name__iexact=text, groups__name=Role.MEDIATOR)
        elif len(text) < PARTIAL_NAME_ANYWHERE_CHARACTERS:
            # Two characters: a whole name (李娜) or a name's start (杨力 for 杨力明).
            # Anchored at the start, the trigram index answers it; anywhere in the
            # name it has no trigram to look up and would read every party.
            names = Party.objects.filter(name__istartswith=text)
            mediators = User.objects.filter(full_name__istartswith=text, groups__name=Role.MEDIATOR)
        else:
            names = Party.objects.filter(name__icontains=text)
            mediators = User.objects.filter(full_name__icontains=text, groups__name=Role.MEDIATOR)
        # The few mediators named so are looked up first; a party's name is matched in
        # SQL. One list of ids from both (no OR of subqueries, see visible_cases).
        parties = names.values("case_id").order_by()
        mediator_ids = list(mediators.values_list("pk", flat=True)[:MAX_NAMED_MEDIATORS])
        if not mediator_ids:
            return Q(pk__in=parties)
        of_mediators = MediationCase.objects.filter(mediator_id__in=mediator_ids).values("pk").order_by()
        return Q(pk__in=parties.union(of_mediators))
    number = normalise_case_number(text)
    if len(number) < PARTIAL_NUMBER_MIN_CHARACTERS or CASE_NUMBER_PATTERN.match(number):
        return Q(number=number)
    return Q(number__contains=number)


def case_list(user: User, filters: CaseListFilters, *, today: dt.date | None = None) -> QuerySet[MediationCase]:
    """The cases `user` may see that match `filters`, the newest first."""
    cases = visible_cases(user)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.mediator:
        cases = cases.filter(mediator_id=filters.mediator)
    if filters.organisation:
        cases = cases.filter(organisation_id=filters.organisation)
    if filters.overdue:
        cases = cases.filter(overdue_cases_q(today or timezone.localdate()))
    if filters.query.strip():
        cases = cases.filter(case_search_condition(filters.query))
    return cases.select_related("organisation").order_by("-created_at", "-id")
