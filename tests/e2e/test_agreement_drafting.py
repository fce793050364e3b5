"""The agreement's drafting page in a browser: rows are added without a round trip,
the default and acceleration clause is ticked once two payments make instalments,
and one submission saves every term."""

from __future__ import annotations

import pytest

from documents.models import Agreement
from documents.services import agreements
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court

pytestmark = pytest.mark.django_db(transaction=True)


def start(court):
    world = make_case_with_parties(court, tag="-drafting")
    agreement = agreements.start_agreement(case=world.case, actor=court.mediator)
    return world, agreement


def test_the_mediator_adds_instalments_on_one_page_and_the_clause_is_offered(journey):
    court = off_the_loop(make_court)
    world, agreement = off_the_loop(start, court)
    mediator = journey.person("mediator")
    mediator.sign_in(court.mediator)
    mediator.goto(f"/agreements/{agreement.pk}/edit/", "draft form")
    form = mediator.page.locator("main form")
    clause = form.locator("input[name=default_clause]")
    assert not clause.is_checked()

    for index, month in ((0, 1), (1, 2)):
        if index:
            form.locator("[data-add-term]").click()
        form.locator(f"select[name=terms-{index}-kind]").select_option("payment")
        form.locator(f"select[name=terms-{index}-obligor]").select_option(str(world.defendant_party.pk))
        form.locator(f"select[name=terms-{index}-obligee]").select_option(str(world.plaintiff_party.pk))
        form.locator(f"input[name=terms-{index}-amount]").fill("250000")
        form.locator(f"input[name=terms-{index}-due_date]").fill(f"2027-{month:02d}-15")
    assert form.locator("input[name=terms-TOTAL_FORMS]").input_value() == "2"
    # Two payments by the defendant to the plaintiff are instalments: the clause is offered.
    assert clause.is_checked()
    form.locator("input[name=grace_days]").fill("7")
    mediator.check("two instalments and the clause", axe=False)
    mediator.submit(form.locator("button[type=submit]"), "draft saved")

    content = Agreement.objects.get(pk=agreement.pk).current_version.content
    assert [term["due_date"] for term in content["terms"]] == ["2027-01-15", "2027-02-15"]
    assert content["default_clause"] == {"enabled": True, "grace_days": 7, "penalty": "none"}
    assert mediator.page.locator("[data-agreement-terms] li").count() == 3


def test_the_mediator_splits_a_payment_into_instalments_with_a_preview(journey):
    court = off_the_loop(make_court)
    world, agreement = off_the_loop(start, court)
    mediator = journey.person("mediator")
    mediator.sign_in(court.mediator)
    mediator.goto(f"/agreements/{agreement.pk}/edit/", "draft form")
    form = mediator.page.locator("main form")
    schedule = form.locator("[data-instalment-schedule]")
    preview = schedule.locator("[data-schedule-preview]")
    assert preview.is_hidden()

    schedule.locator("select[name=schedule-obligor]").select_option(str(world.defendant_party.pk))
    schedule.locator("select[name=schedule-obligee]").select_option(str(world.plaintiff_party.pk))
    schedule.locator("input[name=schedule-total]").fill("10000")
    schedule.locator("input[name=schedule-count]").fill("3")
    schedule.locator("input[name=schedule-first_due]").fill("2027-01-31")
    schedule.locator("input[name=schedule-method]").fill("银行转账")

    # The preview repeats the server's split: equal cents, the rest to the last, month ends kept.
    assert preview.locator("li").all_inner_texts() == [
        "2027-01-31 · 3,333.33",
        "2027-02-28 · 3,333.33",
        "2027-03-31 · 3,333.34",
    ]
    assert form.locator("input[name=default_clause]").is_checked()
    mediator.check("the instalment schedule and its preview", axe=False)
    mediator.submit(form.locator("button[type=submit]"), "schedule saved")

    content = Agreement.objects.get(pk=agreement.pk).current_version.content
    assert [(term["amount"], term["due_date"]) for term in content["terms"]] == [
        ("3333.33", "2027-01-31"),
        ("3333.33", "2027-02-28"),
        ("3333.34", "2027-03-31"),
    ]
    assert content["default_clause"]["enabled"] is True
    # Back on the page, each instalment is a row of its own, named as such.
    assert form.locator("[data-term] [data-instalment]").count() == 3
