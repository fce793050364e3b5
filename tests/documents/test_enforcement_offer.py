"""The performance page offers the application for enforcement to the people of the
party an overdue obligation is owed to, once the court has confirmed the agreement:
the enforcement page's own rule (`enforcement.enforcement_refusal`), nobody else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import Obligation
from tests.after_seal import become_overdue, confirm, sealed_world

pytestmark = pytest.mark.django_db


def future_dates() -> tuple[str, str, str]:
    today = timezone.localdate()
    return tuple((today + dt.timedelta(days=days)).isoformat() for days in (10, 40, 70))


@pytest.fixture
def world(people):
    world, agreement = sealed_world(people["mediator"], people["judge"], dates=future_dates())
    world.agreement = agreement
    world.obligations = list(Obligation.objects.filter(agreement=agreement).order_by("term_number"))
    return world


def offered(client, user, case) -> bool:
    client.force_login(user)
    response = client.get(reverse("case_performance", args=[case.pk]))
    assert response.status_code == 200
    return "data-enforcement-link" in response.content.decode() and (
        reverse("case_enforcement", args=[case.pk]) in response.content.decode()
    )


def test_the_obligee_is_offered_enforcement_once_confirmed_and_overdue(client, world):
    confirm(world, world.agreement)
    become_overdue(world.obligations[1])

    assert offered(client, world.plaintiff, world.case)


def test_nobody_else_is_offered_it(client, world, people):
    confirm(world, world.agreement)
    become_overdue(world.obligations[1])

    for user in (world.defendant, people["mediator"], people["judge"]):
        assert not offered(client, user, world.case), user


def test_not_offered_while_nothing_is_overdue(client, world):
    confirm(world, world.agreement)

    assert not offered(client, world.plaintiff, world.case)


def test_not_offered_before_the_court_confirmed_the_agreement(client, world):
    become_overdue(world.obligations[1])

    assert not offered(client, world.plaintiff, world.case)
