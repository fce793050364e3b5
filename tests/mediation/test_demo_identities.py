"""The demo (`seed_demo`, what `make run` loads): the report's two companies' people
have verified mobile numbers and real names (checked in person by the mediator, with
valid GB 11643-1999 numbers), the neighbours' case keeps one party at "mobile
verified", the sealed agreement's signatures say so, and every demo login still signs
in with its e-mail and password."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from stdnum.cn import ric

from documents.models import Signature
from mediation.demo import DEMO_PASSWORD, demo_logins
from mediation.models import IdentityCheck, IdentityLevel, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(settings):
    settings.SMS_BACKEND = "locmem"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def levels() -> dict[str, str]:
    emails = ["plaintiff@demo.court", "defendant@demo.court", "neighbour.a@demo.court", "neighbour.b@demo.court"]
    return {user.email: user.identity_level for user in User.objects.filter(email__in=emails)}


def test_the_demo_people_have_the_identity_levels_the_story_needs(seeded):
    assert levels() == {
        "plaintiff@demo.court": IdentityLevel.REAL_NAME,
        "defendant@demo.court": IdentityLevel.REAL_NAME,
        "neighbour.a@demo.court": IdentityLevel.REAL_NAME,
        "neighbour.b@demo.court": IdentityLevel.MOBILE,
    }
    mediator = User.objects.get(email="mediator@demo.court")
    for user in User.objects.filter(real_name_verified_at__isnull=False):
        assert ric.is_valid(user.id_number), user.email
        assert user.real_name_verified_by == mediator
        assert user.real_name_verifier == "in_person"
        check = user.identity_checks.get()
        assert check.evidence_content_type == "image/png"


def test_the_report_agreement_was_signed_by_real_name_verified_people(seeded):
    signatures = Signature.objects.filter(version__agreement__case__work_order__external_id="demo-01")
    levels_of_parties = {signature.identity_level for signature in signatures if signature.party_id}
    assert levels_of_parties == {IdentityLevel.REAL_NAME}


def test_every_demo_login_signs_in_with_its_email_and_password_and_seeding_again_adds_nothing(seeded):
    for email, _role in [*demo_logins(), ("neighbour.a@demo.court", ""), ("neighbour.b@demo.court", "")]:
        assert authenticate(email=email, password=DEMO_PASSWORD) is not None, email
    checks = IdentityCheck.objects.count()

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert IdentityCheck.objects.count() == checks == 3
    assert levels()["neighbour.b@demo.court"] == IdentityLevel.MOBILE


def test_the_demo_has_delegated_cases_in_every_state_and_a_filing_package(seeded):
    from documents.models import CourtDocument
    from mediation.models import Delegation, MediationCase

    delegated = MediationCase.objects.filter(delegations__isnull=False).distinct()
    assert set(delegated.values_list("status", flat=True)) == {
        "delegated",
        "pending",
        "in_mediation",
        "failed",
        "withdrawn",
    }
    assert set(Delegation.objects.values_list("status", flat=True)) == {
        "awaiting_dispatch",
        "awaiting_acceptance",
        "accepted",
        "returned",
        "withdrawn",
    }
    failed = delegated.get(status="failed")
    assert failed.court_documents.filter(kind=CourtDocument.Kind.FILING_PACKAGE, status="sealed").exists()
    assert MediationCase.objects.filter(status="settled").exists()
