"""The roster: organisations, appointments, the public roster, the chosen mediator."""

import datetime as dt

import pytest
from django.utils import timezone

from mediation.models import MediatorProfile
from mediation.roster import assignment_refusal
from tests.roster import make_organisation, make_roster_mediator

pytestmark = pytest.mark.django_db


def test_mediator_whose_appointment_ended_cannot_be_assigned():
    today = timezone.localdate()
    mediator = make_roster_mediator(
        make_organisation(), term=(today - dt.timedelta(days=400), today - dt.timedelta(days=1))
    )
    assert "ended" in assignment_refusal(mediator)


def test_suspended_mediator_cannot_be_assigned():
    mediator = make_roster_mediator(make_organisation(), status=MediatorProfile.Status.SUSPENDED)
    assert "suspended" in assignment_refusal(mediator)
    assert assignment_refusal(make_roster_mediator(make_organisation())) is None
