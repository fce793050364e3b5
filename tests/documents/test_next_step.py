"""The case page hints the next step to each reader, from the case's state: the
mediator is told what to do ("Invite the defendant", "Serve the complaint", "Sign
the agreement"), a party's person what to do or what they wait for, each in their
own language; the judge gets no hint."""

import datetime as dt
import html
import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from documents.models import Document
from documents.services import agreements, serving
from documents.services.uploads import upload_document
from mediation.services import cases, invitations, sessions
from tests.cases import make_case
from tests.documents.test_agreements import draft
from tests.documents.test_service import pdf_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mediator, judge):
    return make_case(mediator, judge, agent_authority=True)


def hint(client, user, case, language="en"):
    """The next-step box of the case page as `user` sees it: (code, text), or None."""
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    response = client.get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    found = re.search(
        r'data-next-step="([a-z_]+)">\s*<h2[^>]*>[^<]*</h2>\s*<p>(.*?)</p>', response.content.decode(), re.S
    )
    return (found.group(1), html.unescape(found.group(2))) if found else None


def serve_complaint(world):
    complaint = upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("complaint"),
        filename="起诉状.pdf",
        title="起诉状",
        kind=Document.Kind.COMPLAINT,
    )
    serving.record_consent(case=world.case, user=world.defendant, email=world.defendant.email)
    return serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.defendant, documents=[complaint]
    )


def test_a_new_case_tells_the_mediator_to_add_the_parties(client, mediator):
    case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", claim_amount=1000)

    assert hint(client, mediator, case) == ("add_parties", "Add the plaintiff and the defendant.")


def test_the_mediator_is_told_to_invite_each_side_then_to_wait_for_them(client, mediator):
    case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", claim_amount=1000)
    plaintiff = cases.add_party(case=case, actor=mediator, side="plaintiff", kind="person", name="Wang Fang")
    assert hint(client, mediator, case)[0] == "add_defendant"
    cases.add_party(case=case, actor=mediator, side="defendant", kind="person", name="Li Ming")

    assert hint(client, mediator, case) == (
        "invite_plaintiff",
        "Invite the plaintiff: create an invitation link and send it.",
    )

    with transaction.atomic():
        invitations.invite_participant(
            case=case, actor=mediator, party=plaintiff, role="party", full_name="王芳", phone="13800138000"
        )

    # In Chinese, as the mediator reads it.
    assert hint(client, mediator, case, language="zh-hans") == ("await_plaintiff", "等待原告接受邀请。")


def test_with_both_sides_in_the_mediator_is_told_to_serve_the_complaint(client, world):
    assert hint(client, world.mediator, world.case) == (
        "serve_complaint",
        "Serve the complaint on the defendant (Documents and service).",
    )


def test_after_service_the_mediator_waits_and_the_defendant_is_told_to_acknowledge(client, world):
    with transaction.atomic():
        serve_complaint(world)

    assert hint(client, world.mediator, world.case)[0] == "await_acknowledgement"
    # A party's next step is their to-do list, not a second hint beside it.
    assert hint(client, world.defendant, world.case, language="zh-hans") is None
    assert hint(client, world.plaintiff, world.case) is None


def test_once_acknowledged_the_mediator_schedules_then_starts_a_session(client, world):
    with transaction.atomic():
        service = serve_complaint(world)
    serving.acknowledge_service(service=service, user=world.defendant)

    assert hint(client, world.mediator, world.case) == ("schedule_session", "Schedule a mediation session.")

    sessions.schedule_session(case=world.case, actor=world.mediator, starts_at=timezone.now() + dt.timedelta(days=1))
    assert hint(client, world.mediator, world.case)[0] == "start_session"


def test_a_draft_agreement_is_to_be_locked_and_a_locked_one_signed_by_the_mediator_first(client, world):
    agreement = draft(world)
    assert hint(client, world.mediator, world.case)[0] == "lock_agreement"

    agreements.lock_agreement(agreement=agreement, actor=world.mediator)

    assert hint(client, world.mediator, world.case) == (
        "sign_agreement",
        "Sign the settlement agreement: you sign first.",
    )
    assert hint(client, world.defendant, world.case, language="zh-hans") is None


def test_the_judge_gets_no_hint(client, world):
    assert hint(client, world.judge, world.case) is None


def test_a_closed_case_says_there_is_nothing_more_to_do(client, world):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="The plaintiff withdrew.")

    assert hint(client, world.mediator, world.case)[0] == "closed"
    # A party's next step is their to-do list.
    assert hint(client, world.plaintiff, world.case) is None
