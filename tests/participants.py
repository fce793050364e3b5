"""Builders for the people beside the two sides: third parties (第三人) and the
guardian, interpreter and helper roles (issue 20)."""

from django.db import transaction

from mediation.models import Participant, Party
from mediation.services import cases
from tests.factories import UserFactory


@transaction.atomic
def add_third_party(world, *, name: str = "Hangzhou Logistics", kind: str = "organisation") -> Party:
    """A third party of the world's case, added by its mediator."""
    return cases.add_party(case=world.case, actor=world.mediator, side="third", kind=kind, name=name)


@transaction.atomic
def join(world, party: Party, role: str, full_name: str) -> Participant:
    """A new account taking part for `party` in `role` (as accepting an invitation does)."""
    user = UserFactory(full_name=full_name)
    return cases.attach_participant(case=world.case, party=party, user=user, role=role, actor=world.mediator)


@transaction.atomic
def add_person_party(world, *, side: str, name: str = "王老伯") -> Party:
    """A natural-person party (one a guardian may act for)."""
    return cases.add_party(case=world.case, actor=world.mediator, side=side, kind="person", name=name)
