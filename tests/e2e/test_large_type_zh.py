"""Large type (大字模式) on a 360 px phone, in Chinese: an elderly party switches it on
from the header, and the invitation, her cases, her case page and the signing page
all show text of 20 px and more and buttons at least 48 px high, with no sideways
scrolling and a plain explanation at the top; the setting follows her across pages
and after signing in."""

from __future__ import annotations

import pytest

from mediation.models import User
from mediation.services import invitations
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court
from tests.e2e.test_party_journey_zh import lock_an_agreement, mediator_signs

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The computed font size of the body, and every visible button (or link styled as one)
# lower than 48 px: its text and height.
BODY_FONT_SIZE = "() => parseFloat(getComputedStyle(document.body).fontSize)"
SMALL_BUTTONS = """() => Array.from(document.querySelectorAll(
    'button, .button, input[type=submit], .main-nav a, .pagination a'))
  .filter(el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
  .map(el => [el.innerText.trim().slice(0, 30), el.getBoundingClientRect().height])
  .filter(([_text, height]) => height < 48)"""


def assert_large(person, what: str) -> None:
    page = person.page
    assert page.locator("body").get_attribute("class") == "large-type", what
    assert page.evaluate(BODY_FONT_SIZE) >= 20, what
    assert page.evaluate(SMALL_BUTTONS) == [], what
    assert page.locator("[data-plain-language]").is_visible(), what
    # person.check (run by goto and submit) already failed the step on sideways scrolling.


def invite(world, court):
    _invitation, token = invitations.invite_participant(
        case=world.case,
        actor=court.mediator,
        party=world.defendant_party,
        role="party",
        phone="+8613912345678",
        full_name="赵奶奶",
    )
    return token


def test_an_elderly_party_reads_her_pages_in_large_type_on_a_360_px_phone(journey):
    journey.language = "zh-hans"
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-large")
    case = world.case
    token = off_the_loop(invite, world, court)
    User.objects.filter(pk=world.defendant.pk).update(language="zh-hans")

    # Before signing in: the invitation she received, switched to large type.
    elder = journey.person("elder", phone=True, width=360)
    elder.goto(f"/invite/{token}/", "invitation, standard type")
    assert elder.page.evaluate(BODY_FONT_SIZE) < 20
    switch = elder.page.locator("[data-large-type-switch]")
    assert switch.inner_text().strip() == t("Large type")
    elder.submit(switch, "invitation, large type", full_page=True)
    assert elder.page.url.endswith(f"/invite/{token}/")
    assert_large(elder, "invitation")
    assert t("The court asks you to take part in mediation.") in elder.text()

    # Signed in on a new session (without the sign-in page, which would carry the
    # choice over: tests/mediation/test_large_type.py), she switches it on from the
    # header of her cases, and it is on her account from then on.
    elder.sign_in(world.defendant)
    elder.goto("/my-cases/", "my cases")
    if elder.page.locator("body").get_attribute("class") != "large-type":
        elder.submit(elder.page.locator("[data-large-type-switch]"), "my cases, large type")
    assert User.objects.get(pk=world.defendant.pk).large_type
    assert_large(elder, "my cases")

    elder.goto(f"/cases/{case.pk}/", "case page", full_page=True)
    assert_large(elder, "case page")

    agreement = off_the_loop(lock_an_agreement, world, court)
    journey.data.append(agreement.verification_code)
    off_the_loop(mediator_signs, agreement, court)
    elder.goto(f"/agreements/{agreement.pk}/sign/", "sign page", full_page=True)
    assert_large(elder, "sign page")
    assert t("When you sign, you promise to do what the agreement says.") in elder.text()

    # Switched off again: standard type on the next page too.
    elder.submit(elder.page.locator("[data-large-type-switch]"), "sign page, standard type")
    elder.goto("/my-cases/", "my cases, standard type")
    assert elder.page.locator("body").get_attribute("class") is None
    assert elder.page.evaluate(BODY_FONT_SIZE) < 20


def many_cases(court):
    from mediation.models import MediationCase
    from tests.case_rows import case_rows

    case_rows(
        30, mediator=court.mediator, status=MediationCase.Status.IN_MEDIATION, party_name="上海星河文化传媒有限公司"
    )
    case_rows(1, mediator=None, status=MediationCase.Status.DELEGATED, party_name="北京云图科技有限公司")


def test_the_case_list_searches_filters_and_pages_on_a_360_px_phone(journey):
    court = off_the_loop(make_court)
    off_the_loop(many_cases, court)
    mediator = journey.person("mediator", phone=True, width=360)
    mediator.sign_in(court.mediator)
    mediator.goto("/cases/", "case list at 360 px", full_page=True)
    assert "30 cases" in mediator.text()
    search = mediator.page.locator("form.filters")
    search.locator("input[name=q]").fill("星河文化")
    mediator.submit(search.locator(".filters__search button"), "searched by a party's name")
    assert "30 cases" in mediator.text()
    with mediator.page.expect_navigation():
        mediator.page.locator(".pagination a[rel=next]").click()
    mediator.check("page 2 of the search", full_page=True)
    assert "q=" in mediator.page.url and "page=2" in mediator.page.url
    # A bad filter in a hand-edited link: a message, the list still there.
    mediator.goto("/cases/?status=nonsense&overdue=on", "a status not understood", full_page=True)
    assert "This filter was left out." in mediator.text()
