"""Payments in instalments, drafted as a schedule the server splits into one payment
term per instalment (exact amounts, dates by the month or every N days), named
"Instalment 2 of 3" in the agreement; and a term whose free text contradicts its
structured fields (an amount, a date, instalments in one term) refused with nothing
saved."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from documents.agreement_rendering import agreed_clauses, preview_html
from documents.services import agreements
from documents.services.agreement_content import instalment_terms
from mediation.models import AuditEntry
from mediation.roles import Role
from tests.cases import make_case
from tests.documents.test_agreement_drafting import form_data, payment_row, render
from tests.documents.test_agreements import defendant_party, draft, fresh, payment_term, plaintiff_party
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


def schedule(**changes) -> dict:
    return {
        "obligor": 1,
        "obligee": 2,
        "total": Decimal("10000"),
        "count": 3,
        "first_due": dt.date(2027, 1, 15),
        "method": "银行转账",
        **changes,
    }


# The schedule's arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "count", "amounts"),
    [
        ("10000", 3, ["3333.33", "3333.33", "3333.34"]),
        ("300000", 3, ["100000.00", "100000.00", "100000.00"]),
        ("0.05", 2, ["0.02", "0.03"]),
        ("100", 24, ["4.16"] * 23 + ["4.32"]),
        ("1234567.89", 7, ["176366.84"] * 6 + ["176366.85"]),
    ],
)
def test_the_amounts_are_equal_and_sum_exactly_to_the_total_the_cents_going_to_the_last(total, count, amounts):
    terms = instalment_terms(**schedule(total=Decimal(total), count=count))

    assert [term["amount"] for term in terms] == amounts
    assert sum(Decimal(term["amount"]) for term in terms) == Decimal(total)
    assert [term["instalment"] for term in terms] == [{"n": k, "of": count} for k in range(1, count + 1)]
    assert {(term["kind"], term["obligor"], term["obligee"], term["method"]) for term in terms} == {
        ("payment", 1, 2, "银行转账")
    }


@pytest.mark.parametrize(
    ("first", "dates"),
    [
        ("2027-01-31", ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]),
        ("2028-01-31", ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]),
        ("2027-01-30", ["2027-01-30", "2027-02-28", "2027-03-30", "2027-04-30"]),
        ("2027-11-15", ["2027-11-15", "2027-12-15", "2028-01-15", "2028-02-15"]),
    ],
)
def test_monthly_dates_keep_the_first_ones_day_of_the_month_or_the_months_last_day(first, dates):
    terms = instalment_terms(**schedule(count=4, first_due=dt.date.fromisoformat(first)))

    assert [term["due_date"] for term in terms] == dates


def test_dates_every_n_days():
    terms = instalment_terms(**schedule(first_due=dt.date(2027, 2, 20), interval="days", interval_days=14))

    assert [term["due_date"] for term in terms] == ["2027-02-20", "2027-03-06", "2027-03-20"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": 1}, "from 2 to 24"),
        ({"count": 25}, "from 2 to 24"),
        ({"count": True}, "from 2 to 24"),
        ({"total": Decimal("0")}, "total amount"),
        ({"total": "lots"}, "total amount"),
        ({"total": Decimal("0.01")}, "at least 0.01"),
        ({"first_due": None}, "first due date"),
        ({"interval": "weekly"}, "monthly or every so many days"),
        ({"interval": "days", "interval_days": None}, "days between instalments"),
        ({"interval": "days", "interval_days": 0}, "days between instalments"),
        ({"interval": "days", "interval_days": 367}, "days between instalments"),
        ({"first_due": dt.date(9999, 11, 30)}, "out of range"),
    ],
)
def test_a_schedule_that_cannot_be_made_is_refused(changes, message):
    with pytest.raises(ValidationError) as refused:
        instalment_terms(**schedule(**changes))

    assert any(message in problem for problem in refused.value.message_dict["schedule"])


# The drafting page ----------------------------------------------------------------------------------


def schedule_fields(world, **changes) -> dict:
    fields = {
        "obligor": defendant_party(world).pk,
        "obligee": plaintiff_party(world).pk,
        "total": "10000",
        "count": "3",
        "first_due": "2027-01-31",
        "interval": "monthly",
        "method": "银行转账",
        **changes,
    }
    return {f"schedule-{key}": value for key, value in fields.items()}


def test_the_mediator_posts_a_schedule_and_gets_one_ordinary_term_per_instalment(client, world):
    agreement = draft(world)
    client.force_login(world.mediator)
    act = {"kind": "act", "obligor": plaintiff_party(world).pk, "obligee": defendant_party(world).pk, "act": "交付母带"}

    response = client.post(
        reverse("agreement_edit", args=[agreement.pk]), form_data(world, [act], **schedule_fields(world))
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("agreement_edit", args=[agreement.pk])
    terms = fresh(agreement).current_version.content["terms"]
    assert [term["kind"] for term in terms] == ["act", "payment", "payment", "payment"]
    assert [(t["amount"], t["due_date"], t["instalment"]) for t in terms[1:]] == [
        ("3333.33", "2027-01-31", {"n": 1, "of": 3}),
        ("3333.33", "2027-02-28", {"n": 2, "of": 3}),
        ("3333.34", "2027-03-31", {"n": 3, "of": 3}),
    ]
    assert {(t["obligor"], t["obligee"], t["method"]) for t in terms[1:]} == {
        (defendant_party(world).pk, plaintiff_party(world).pk, "银行转账")
    }

    # Back on the page, they are rows like any other, each naming its instalment, and
    # saved again as they are they keep it.
    page = client.get(reverse("agreement_edit", args=[agreement.pk]))
    html = page.content.decode()
    assert "Instalment 2 of 3" in html
    assert html.count("data-term>") == 4 + 1 + 1
    rows = [
        {**payment_row(world, 1), "amount": t["amount"], "due_date": t["due_date"], "method": t["method"]}
        | {"instalment_n": t["instalment"]["n"], "instalment_of": t["instalment"]["of"]}
        for t in terms[1:]
    ]
    rows[1]["amount"] = "3000"  # edited by hand: still instalment 2 of 3
    again = client.post(reverse("agreement_edit", args=[agreement.pk]), form_data(world, rows))
    assert again.status_code == 302
    edited = fresh(agreement).current_version.content["terms"]
    assert [(t["amount"], t["instalment"]) for t in edited] == [
        ("3333.33", {"n": 1, "of": 3}),
        ("3000.00", {"n": 2, "of": 3}),
        ("3333.34", {"n": 3, "of": 3}),
    ]


def test_the_schedule_in_the_readers_language_on_the_page(client, world):
    agreement = draft(world)
    client.force_login(world.mediator)
    client.post(reverse("agreement_edit", args=[agreement.pk]), form_data(world, [], **schedule_fields(world)))

    page = client.get(reverse("agreement_edit", args=[agreement.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "第2期（共3期）" in page.content.decode()
    assert "Split a payment into instalments" not in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": "25"}, "less than or equal to 24"),
        ({"count": "1"}, "greater than or equal to 2"),
        ({"total": ""}, "This field is required"),
        ({"interval": "days", "interval_days": ""}, "days between instalments"),
        ({"obligee": "DEFENDANT"}, "two different parties"),
        ({"method": "分三期转账"}, "one term is one payment"),
    ],
)
def test_a_wrong_schedule_on_the_page_refuses_everything_and_says_why(client, world, changes, message):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    client.force_login(world.mediator)
    if changes.get("obligee") == "DEFENDANT":
        changes = {"obligee": defendant_party(world).pk}

    response = client.post(
        reverse("agreement_edit", args=[agreement.pk]),
        form_data(world, [payment_row(world, 1)], **schedule_fields(world, **changes)),
    )

    assert response.status_code == 400
    fieldset = re.search(r"data-instalment-schedule>(.*?)</fieldset>", response.content.decode(), re.S).group(1)
    assert message in fieldset
    assert fresh(agreement).current_version.content == before


@pytest.mark.parametrize("who", ["plaintiff", "defendant", "judge"])
def test_a_party_or_the_judge_cannot_post_a_schedule(client, world, who):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    client.force_login(getattr(world, who))

    response = client.post(
        reverse("agreement_edit", args=[agreement.pk]), form_data(world, [], **schedule_fields(world))
    )

    assert response.status_code in (403, 404)
    assert fresh(agreement).current_version.content == before


def test_another_cases_mediator_cannot_post_a_schedule(client, world, people):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    other_mediator = staff(Role.MEDIATOR, people["mediator"].department, full_name="Gao Yan")
    make_case(other_mediator, None, label="B")
    client.force_login(other_mediator)

    response = client.post(
        reverse("agreement_edit", args=[agreement.pk]), form_data(world, [], **schedule_fields(world))
    )

    assert response.status_code in (403, 404)
    assert fresh(agreement).current_version.content == before


# The instalment in the stored term --------------------------------------------------------------


@pytest.mark.parametrize(
    "instalment",
    [{"n": 0, "of": 3}, {"n": 4, "of": 3}, {"n": 1, "of": 25}, {"n": "1", "of": 3}, {"n": True, "of": 3}, {"n": 1}, 3],
)
def test_an_instalment_number_that_is_not_valid_is_refused(world, instalment):
    agreement = draft(world)
    before = fresh(agreement).current_version.content

    with pytest.raises(ValidationError) as refused:
        agreements.update_draft(
            agreement=fresh(agreement),
            actor=world.mediator,
            facts="事实",
            terms=[payment_term(world, instalment=instalment)],
            costs="",
            effectiveness="",
            judicial_confirmation=True,
        )

    assert "Term 1: the instalment number is not valid" in refused.value.message_dict["terms"][0]
    assert fresh(agreement).current_version.content == before


def made(world, count, **changes) -> list[dict]:
    return instalment_terms(
        **schedule(obligor=defendant_party(world).pk, obligee=plaintiff_party(world).pk, count=count, **changes)
    )


def places(version) -> list:
    return [term.get("instalment") for term in version.content["terms"]]


def test_an_instalment_deleted_renumbers_the_others_so_that_the_agreement_stays_true(world):
    agreement = draft(world)
    first, _second, third = made(world, 3)

    version = save_terms(world, agreement, [first, third])

    assert places(version) == [{"n": 1, "of": 2}, {"n": 2, "of": 2}]


def test_an_instalment_left_alone_or_moved_to_other_parties_is_an_ordinary_payment(world):
    agreement = draft(world)
    first, second = made(world, 2)
    moved = {**second, "obligor": plaintiff_party(world).pk, "obligee": defendant_party(world).pk}

    assert places(save_terms(world, agreement, [first])) == [None]
    assert places(save_terms(world, agreement, [first, moved])) == [None, None]


def test_two_schedules_between_the_same_parties_keep_their_own_numbers(world):
    agreement = draft(world)
    spring = made(world, 3)
    autumn = made(world, 3, first_due=dt.date(2027, 9, 1))
    other = made(world, 2, first_due=dt.date(2028, 1, 1))

    version = save_terms(world, agreement, spring + autumn + other)

    assert places(version) == [{"n": n, "of": 3} for n in (1, 2, 3)] * 2 + [{"n": 1, "of": 2}, {"n": 2, "of": 2}]


def test_the_pdf_and_the_preview_name_each_instalment(world):
    agreement = draft(world)
    terms = instalment_terms(
        obligor=defendant_party(world).pk,
        obligee=plaintiff_party(world).pk,
        total=Decimal("10000"),
        count=3,
        first_due=dt.date(2027, 1, 31),
        method="银行转账",
    )
    agreements.update_draft(
        agreement=fresh(agreement),
        actor=world.mediator,
        facts="事实",
        terms=terms,
        costs="调解不收费。",
        effectiveness="签章后生效。",
        judicial_confirmation=True,
    )

    chinese = preview_html(fresh(agreement))
    assert "第1期（共3期）：" in chinese and "第3期（共3期）：" in chinese
    assert "3,333.34" in chinese
    with override_settings(DOCUMENT_LANGUAGE="en"):
        english = preview_html(fresh(agreement))
    assert "Instalment 2 of 3: " in english
    pdf_text = "".join(render(fresh(agreement), 1))
    assert "第2期（共3期）：" in pdf_text and "3,333.34" in pdf_text
    parties = {defendant_party(world).pk: "B", plaintiff_party(world).pk: "A"}
    with translation.override("en"):
        clauses = agreed_clauses(fresh(agreement).current_version.content, parties)
    assert clauses[0].startswith("Instalment 1 of 3: B pays A RMB 3,333.33 yuan")


# Free text that contradicts the structured fields ------------------------------------------------


def save_terms(world, agreement, terms):
    return agreements.update_draft(
        agreement=fresh(agreement),
        actor=world.mediator,
        facts="事实",
        terms=terms,
        costs="",
        effectiveness="",
        judicial_confirmation=True,
    )


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("转账 10000 元", "the method says 10,000.00 yuan but the amount is 20,000.00 yuan"),
        ("10,000元", "the method says 10,000.00 yuan"),
        ("¥10000", "the method says 10,000.00 yuan"),
        ("￥１００００ 银行转账", "the method says 10,000.00 yuan"),
        ("RMB 10000", "the method says 10,000.00 yuan"),
        ("1万元", "the method says 10,000.00 yuan"),
        ("转账 20000 元，再付 5000 元", "the method says 5,000.00 yuan"),
        ("2026年3月1日前转账", "the method says 2026年3月1日 but the due date is"),
        ("2026-03-01 前转账", "the method says 2026-03-01"),
        ("3月1日前转账", "the method says 3月1日"),
        ("分三期", "one term is one payment"),
        ("分期付款", "one term is one payment"),
        ("bank transfer in instalments", "one term is one payment"),
        ("in 3 instalments", "one term is one payment"),
    ],
)
def test_a_method_that_contradicts_the_term_is_refused_and_nothing_is_saved(world, method, message):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    edits = AuditEntry.objects.filter(action="agreement.edit").count()
    terms = [
        {"kind": "act", "obligor": plaintiff_party(world).pk, "obligee": defendant_party(world).pk, "act": "交付"},
        payment_term(world, amount="20000", due_date="2026-04-01", method=method),
    ]

    with pytest.raises(ValidationError) as refused:
        save_terms(world, agreement, terms)

    [problem] = refused.value.message_dict["terms"]
    assert problem.startswith("Term 2: ")
    assert message in problem
    assert fresh(agreement).current_version.content == before
    assert AuditEntry.objects.filter(action="agreement.edit").count() == edits


@pytest.mark.parametrize(
    "method",
    [
        "银行转账",
        "转账 20000 元",
        "RMB 20,000.00",
        "2万元，2026年4月1日前",
        "4月1日前转账至账号 6222021234567890",
        "2026/4/1 bank transfer",
        "bank transfer to account 6222 0212 3456 7890",
    ],
)
def test_a_method_that_agrees_with_the_term_is_accepted(world, method):
    agreement = draft(world)

    version = save_terms(world, agreement, [payment_term(world, amount="20000", due_date="2026-04-01", method=method)])

    assert version.content["terms"][0]["method"] == method


def test_the_contradiction_is_said_in_the_readers_language(world):
    agreement = draft(world)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        save_terms(world, agreement, [payment_term(world, amount="20000", due_date="2026-04-01", method="1万元")])

    [problem] = refused.value.message_dict["terms"]
    assert "10,000.00" in problem and "20,000.00" in problem
    assert "the method says" not in problem


@pytest.mark.parametrize(
    ("act", "refused"),
    [
        ("2026年3月1日前交付母带", True),
        ("于2026-03-01交付母带", True),
        ("3月1号交付母带", True),
        ("3月1日前交付的母带", True),
        ("4月1日前交付母带", False),
        ("交付母带", False),
        # A date naming something past is no deadline.
        ("撤回于2025年3月1日提起的诉讼", False),
        ("返还2025年12月1日签订的合同原件", False),
    ],
)
def test_an_act_whose_text_gives_another_date_is_refused(world, act, refused):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    term = {
        "kind": "act",
        "obligor": plaintiff_party(world).pk,
        "obligee": defendant_party(world).pk,
        "act": act,
        "due_date": "2026-04-01",
    }
    if not refused:
        assert save_terms(world, agreement, [term]).content["terms"][0]["act"] == act
        return

    with pytest.raises(ValidationError) as error:
        save_terms(world, agreement, [term])

    assert "Term 1: the text says" in error.value.message_dict["terms"][0]
    assert fresh(agreement).current_version.content == before


def test_the_page_shows_a_contradiction_on_its_row_and_saves_nothing(client, world):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    client.force_login(world.mediator)
    rows = [payment_row(world, 1), {**payment_row(world, 2), "method": "转账 10000 元"}]

    response = client.post(reverse("agreement_edit", args=[agreement.pk]), form_data(world, rows))

    assert response.status_code == 400
    rows_html = re.findall(r"<fieldset class=\"term\" data-term>(.*?)</fieldset>", response.content.decode(), re.S)
    assert "Term 2: the method says 10,000.00 yuan but the amount is 100,000.00 yuan" in rows_html[1]
    assert "the method says" not in rows_html[0]
    assert fresh(agreement).current_version.content == before


def test_a_long_method_is_checked_quickly():
    import time

    from documents.services.agreement_content import method_contradictions

    for text in ("1," * 100, "9" * 200, "2026-" * 40, "分" * 200, "1月" * 100, "RMB " * 50):
        started = time.monotonic()
        method_contradictions(1, text[:200], amount=Decimal("1"), due=dt.date(2026, 4, 1))
        assert time.monotonic() - started < 0.05
