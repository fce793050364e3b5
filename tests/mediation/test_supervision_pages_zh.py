"""The case page's supervision and recusal parts read in Chinese, for the judge, the
mediator and the applicant's people, and the notices render in Chinese."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from mediation.models import Notification
from mediation.notifications import render
from mediation.services.case_supervision import issue_case_supervision_notice
from mediation.services.recusal import request_recusal
from tests.cases import make_case
from tests.languages import CJK, english_words
from tests.test_page_languages import CASE_NUMBER, page_text, stored_words

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(mediator, judge):
    world = make_case(mediator, judge)
    issue_case_supervision_notice(
        case=world.case, actor=judge, content="请说明为何尚未安排调解。", due_at=timezone.now() + dt.timedelta(days=2)
    )
    request_recusal(case=world.case, actor=world.plaintiff, reason="调解员曾担任被告的法律顾问。")
    return world


@pytest.mark.parametrize("who", ["judge", "mediator", "plaintiff"])
def test_the_case_page_has_no_english_left_in_chinese(world, who):
    user = getattr(world, who)
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    response = client.get(reverse("case_detail", args=[world.case.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-recusal-request" in body
    if who == "mediator":
        # The mediator's page carries the whole case's forms (other parts' strings):
        # only this part's section is checked here.
        start = body.index("<section", body.index("data-case-supervision") - 200)
        body = body[start : body.index("</section>", start)]
    text = CASE_NUMBER.sub(" ", page_text(body, "zh-hans"))
    assert english_words(text, stored_words()) == []


def test_every_notice_of_the_part_renders_in_chinese(world):
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"case.supervised", "case.recusal_requested"} <= kinds
    with translation.override("zh-hans"):
        for kind in [
            "case_deadline.warning",
            "case_deadline.overdue",
            "case_deadline.unassigned",
            "case.supervised",
            "case.supervision_answered",
            "case.recusal_requested",
            "case.recusal_granted",
            "case.recusal_refused",
            "case.mediator_replaced",
            "case.mediator_removed",
        ]:
            text = render(kind, {"number": "X1", "due": "2026-07-01", "days": 3, "name": "周平"})
            assert CJK.search(text) and not english_words(text, ["X1"]), kind
