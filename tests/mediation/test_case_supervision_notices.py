"""Supervision notices (督办) on mediation cases: who may issue them, the mediator's
answer, what the case page shows and to whom."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseSupervisionNotice
from mediation.services import cases
from mediation.services.case_supervision import answer_case_supervision_notice, issue_case_supervision_notice
from tests.cases import make_case
from tests.supervision import kinds_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mediator, judge):
    return make_case(mediator, judge)


def due(days=3):
    return timezone.now() + dt.timedelta(days=days)


def issue(world, actor, content="Report on progress: why no session yet?"):
    return issue_case_supervision_notice(case=world.case, actor=actor, content=content, due_at=due())


@pytest.mark.parametrize("who", ["judge", "liaison", "head"])
def test_the_judge_the_general_liaison_or_a_department_head_issues_a_notice(world, people, who):
    notice = issue(world, people[who])

    assert (notice.issued_by, notice.is_open) == (people[who], True)
    event = world.case.events.get(action="supervise")
    assert (event.actor, event.note, event.data["notice"]) == (people[who], notice.content, notice.pk)
    assert "case.supervised" in kinds_for(world.mediator)
    # The judge hears of a notice someone else issued on their case.
    assert ("case.supervised" in kinds_for(people["judge"])) == (who != "judge")


@pytest.mark.parametrize("who", ["mediator", "other_judge", "outside_judge", "dept_liaison", "nobody"])
def test_nobody_else_issues_a_notice(world, people, who):
    with pytest.raises(ActionForbidden):
        issue(world, people[who])
    assert not CaseSupervisionNotice.objects.exists()


def test_a_party_cannot_issue_a_notice(world):
    with pytest.raises(ActionForbidden):
        issue(world, world.plaintiff)


def test_a_department_head_of_another_department_cannot_issue_a_notice(world, mediator, judge):
    from mediation.roles import Role
    from tests.factories import DepartmentFactory, staff

    other_head = staff(Role.DEPARTMENT_HEAD, DepartmentFactory(name="Criminal", code="crim"), full_name="Other head")
    with pytest.raises(ActionForbidden):
        issue(world, other_head)


def test_a_concluded_case_gets_no_notice(world, people):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="Withdrawn")
    with pytest.raises(TransitionNotAllowed):
        issue(world, people["judge"])


@pytest.mark.parametrize(
    "content, due_at, field",
    [
        ("  ", due(), "content"),
        ("x" * 2001, due(), "content"),
        ("Report", timezone.now() - dt.timedelta(hours=1), "due_at"),
    ],
)
def test_a_notice_needs_content_and_a_future_answer_date(world, people, content, due_at, field):
    with pytest.raises(ValidationError) as error:
        issue_case_supervision_notice(case=world.case, actor=people["judge"], content=content, due_at=due_at)
    assert field in error.value.message_dict
    assert not CaseSupervisionNotice.objects.exists()


def test_the_mediator_answers_once_and_the_issuer_is_told(world, people):
    notice = issue(world, people["liaison"])

    answer_case_supervision_notice(notice=notice, actor=world.mediator, response=" Session set for Monday. ")

    notice.refresh_from_db()
    assert (notice.response, notice.responded_by, notice.is_open) == ("Session set for Monday.", world.mediator, False)
    assert "case.supervision_answered" in kinds_for(people["liaison"])
    with pytest.raises(TransitionNotAllowed):
        answer_case_supervision_notice(notice=notice, actor=world.mediator, response="Again")


@pytest.mark.parametrize("who", ["judge", "liaison", "plaintiff", "other_mediator"])
def test_only_the_cases_mediator_answers(world, people, who, mediator):
    from mediation.roles import Role
    from tests.factories import staff

    notice = issue(world, people["judge"])
    actor = {
        "judge": people["judge"],
        "liaison": people["liaison"],
        "plaintiff": world.plaintiff,
        "other_mediator": staff(Role.MEDIATOR, None, full_name="Other mediator"),
    }[who]
    with pytest.raises(ActionForbidden):
        answer_case_supervision_notice(notice=notice, actor=actor, response="Fine")
    notice.refresh_from_db()
    assert notice.is_open


def test_an_empty_answer_is_refused(world, people):
    notice = issue(world, people["judge"])
    with pytest.raises(ValidationError):
        answer_case_supervision_notice(notice=notice, actor=world.mediator, response="  ")


def test_notices_are_issued_and_answered_from_the_case_page(client, world, people):
    url = reverse("case_detail", args=[world.case.pk])
    client.force_login(people["judge"])
    local_due = timezone.localtime(due()).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("case_action", args=[world.case.pk, "supervise"]),
        {"supervise-content": "Why no session yet?", "supervise-due_at": local_due},
    )
    assert response.status_code == 302
    notice = CaseSupervisionNotice.objects.get()

    client.force_login(world.mediator)
    page = client.get(url)
    assert "answer_supervision" in page.context["action_forms"]
    assert f'data-supervision-notice="{notice.pk}"' in page.content.decode()
    response = client.post(
        reverse("case_action", args=[world.case.pk, "answer_supervision"]),
        {"answer_supervision-notice": notice.pk, "answer_supervision-response": "Monday 10:00."},
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.response == "Monday 10:00."


def test_the_parties_never_see_the_notices(client, world, people):
    issue(world, people["judge"], content="Internal: speed up")
    client.force_login(world.plaintiff)
    page = client.get(reverse("case_detail", args=[world.case.pk]))
    assert "Internal: speed up" not in page.content.decode()
    assert "data-supervision-notice" not in page.content.decode()


def test_a_notice_of_another_case_cannot_be_answered_through_this_one(client, world, people, mediator, judge):
    other = make_case(mediator, judge, label="B")
    notice = issue(other, people["judge"])
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "answer_supervision"]),
        {"answer_supervision-notice": notice.pk, "answer_supervision-response": "Sneaky"},
    )
    assert response.status_code == 400
    notice.refresh_from_db()
    assert notice.is_open
