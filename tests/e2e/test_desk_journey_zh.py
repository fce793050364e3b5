"""The general liaison's desk and figures in Chinese, on a phone (390 px) and on a
desktop: the overdue orders with both clocks and their badges under the "overdue" tab,
an order found by a phone number typed with spaces and by part of its number, and the
figures of a quarter downloaded as Excel and opened here. Screenshots, axe-core and the
no-English check as in test_journeys."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from mediation.models import WorkOrder
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import download_bytes, make_court
from tests.factories import WorkOrderFactory
from tests.workflows import order_in_state

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = WorkOrder.Status

PHONE_TYPED = "138 1234 5678"
CASE_NUMBER = "(2026)京0107民初9876号"


def make_desk() -> dict:
    """Two orders late on both clocks (received six weeks ago, dispatched, nobody
    called back), one late on first contact only, one in good time with the phone
    and case number the liaison searches for, and one closed this quarter."""
    court = make_court()
    people = {"judge": court.judge, "liaison": court.liaison, "dept_liaison": court.dept_liaison}
    names = iter(["王芳", "李强", "周敏", "孙丽", "吴刚", "郑洁"])
    # Numbers that share no run of digits with the orders' numbers (GD-2026-00000n).
    phones = iter(f"+861391357{n}{n}{n}{n}" for n in range(2, 10))
    # Every channel, so that the breakdowns carry their longest labels.
    channels = iter(["portal", "window", "wechat", "letter", "hotline"])

    def order(status, **intake):
        intake = {"requester_phone": next(phones), "channel": next(channels), **intake}
        return order_in_state(status, people, requester_name=next(names), content="请法官回电。", **intake)

    with time_machine.travel(timezone.now() - dt.timedelta(days=42), tick=False):
        very_late = [order(Status.DISPATCHED), order(Status.DISPATCHED)]
    with time_machine.travel(timezone.now() - dt.timedelta(days=2), tick=False):
        first_contact_late = order(Status.DISPATCHED)
    searched = order(Status.DISPATCHED, requester_phone="+8613812345678", case_number=CASE_NUMBER)
    closed = order(Status.CLOSED)
    quiet = WorkOrderFactory(
        requester_name=next(names), requester_phone=next(phones), category="consultation", content="咨询立案材料。"
    )
    return {
        "court": court,
        "very_late": very_late,
        "first_contact_late": first_contact_late,
        "searched": searched,
        "closed": closed,
        "quiet": quiet,
    }


def row_of(person, number: str):
    return person.page.locator("table.orders tbody tr", has=person.page.get_by_role("link", name=number, exact=True))


def listed_numbers(person) -> set[str]:
    return set(person.page.locator("table.orders tbody tr td:first-child a").all_inner_texts())


def search(person, query: str, label: str) -> set[str]:
    box = person.page.locator("form[role=search] input[name=q]")
    box.fill(query)
    person.submit(person.page.locator("form[role=search] .filters__search button[type=submit]"), label)
    return listed_numbers(person)


def breakdowns_fit(person) -> list[str]:
    """Breakdown cards that reach past their grid's or the screen's edge, or whose
    table is wider than the card shows (its last columns cut off at the edge)."""
    return person.page.evaluate(
        """() => {
          const problems = [];
          const width = document.documentElement.clientWidth;
          for (const card of document.querySelectorAll('.grid-3 > .card')) {
            const grid = card.parentElement.getBoundingClientRect();
            const box = card.getBoundingClientRect();
            const title = card.querySelector('h2').textContent;
            if (box.right > Math.min(grid.right, width) + 1) {
              problems.push(title + ': card ends at ' + box.right + ' past ' + Math.min(grid.right, width));
            }
            const wrap = card.querySelector('.table-wrap');
            const table = card.querySelector('table');
            if (!wrap || !table) { continue; }
            if (table.scrollWidth > wrap.clientWidth + 1) {
              problems.push(title + ': table ' + table.scrollWidth + ' px wide in ' + wrap.clientWidth + ' px');
            }
          }
          return problems;
        }"""
    )


@pytest.mark.parametrize("phone", [True, False], ids=["phone-390", "desktop-1280"])
def test_the_desk_and_figures_in_chinese(journey, phone):
    journey.language = "zh-hans"
    journey.data += [settings.COURT_NAME]
    desk = off_the_loop(make_desk)
    t = journey.t
    liaison = journey.person("liaison", phone=phone)
    liaison.sign_in(desk["court"].liaison)

    # The desk opens on the open orders, the closed one hidden, each with when it came in.
    liaison.goto("/desk/", "desk")
    assert liaison.page.locator("html").get_attribute("lang") == "zh-hans"
    open_numbers = {o.number for o in [*desk["very_late"], desk["first_contact_late"], desk["searched"], desk["quiet"]]}
    assert listed_numbers(liaison) == open_numbers
    assert desk["closed"].number not in liaison.text()
    received = timezone.localtime(desk["quiet"].received_at).strftime("%Y-%m-%d %H:%M")
    assert received in row_of(liaison, desk["quiet"].number).inner_text()

    # The "overdue" tab: the late orders only, each marked overdue, on the clock(s) that ran out.
    tabs = liaison.page.get_by_role("navigation", name=t("Queues"))
    for name in ("To dispatch", "To confirm", "Overdue", "Return visit due"):
        assert tabs.get_by_role("link", name=t(name)).count() == 1, name
    liaison.submit(tabs.get_by_role("link", name=t("Overdue")), "overdue tab")
    assert tabs.get_by_role("link", name=t("Overdue")).get_attribute("aria-current") == "page"
    late = {o.number for o in [*desk["very_late"], desk["first_contact_late"]]}
    assert listed_numbers(liaison) == late
    overdue_by = t("overdue by %(time)s").split("%(time)s")[0].strip()
    for number in late:
        row = row_of(liaison, number)
        assert row.locator(".badge--late", has_text=t("Overdue")).is_visible()
        # Never only a green "time left": the clock that ran out says so, in red.
        assert row.locator(".deadline--late").count() >= 1, f"{number} shows only time left while overdue"
        clocks = row.locator(".clock")
        assert t("First contact") in clocks.nth(0).inner_text() and t("Completion") in clocks.nth(1).inner_text()
        assert overdue_by in clocks.nth(0).inner_text()
    for order in desk["very_late"]:
        assert row_of(liaison, order.number).locator(".deadline--ok").count() == 0
        completion = row_of(liaison, order.number).locator(".clock").nth(1)
        assert completion.locator(".deadline--late").is_visible()
        assert overdue_by in completion.inner_text()
    # One late on first contact only still has time to finish: both clocks, each true.
    completion = row_of(liaison, desk["first_contact_late"].number).locator(".clock").nth(1)
    assert completion.locator(".deadline--ok").is_visible()
    liaison.check("overdue badges", full_page=True, axe=False)

    # The phone number as the caller reads it out, with spaces, and parts of numbers.
    liaison.goto("/desk/", "desk before search")
    searched = desk["searched"].number
    assert search(liaison, PHONE_TYPED, "found by phone with spaces") == {searched}
    assert search(liaison, searched.split("-")[-1], "found by part of its number") == {searched}
    assert search(liaison, "民初9876", "found by part of its case number") == {searched}

    # The figures of this quarter, by month, and the same as an Excel workbook.
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    liaison.goto("/figures/", "figures")
    form = liaison.page.locator("form.figures-period")
    form.locator("select[name=period]").select_option("quarter")
    assert form.locator("[data-period=year]").first.is_hidden()
    form.locator("input[name=year]").fill(str(today.year))
    form.locator("select[name=quarter]").select_option(str(quarter))
    liaison.submit(form.get_by_role("button", name=t("Show")), "figures of the quarter")
    quarter_name = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}[quarter]
    assert f"{today.year}年{quarter_name}" in liaison.page.locator("#figures-period").inner_text()
    assert liaison.page.get_by_role("heading", name=t("By month")).is_visible()
    problems = breakdowns_fit(liaison)
    assert not problems, problems

    with liaison.page.expect_download() as download_info:
        liaison.page.locator("#figures-export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == f"工单统计数据-{today.year}年{quarter_name}.xlsx"
    book = load_workbook(io.BytesIO(download_bytes(download)))
    assert book.sheetnames == ["按月份", "按来源渠道", "按诉求类别", "按承办部门"]
    months = book["按月份"]
    assert months["A1"].value == settings.COURT_NAME
    assert months["A2"].value == "工单统计数据"
    assert months["B3"].value.startswith(f"{today.year}年{quarter_name}")
    assert months["A6"].value == "月份" and months["A6"].font.bold and months.freeze_panes == "A7"
    this_month = [
        row for row in months.iter_rows(min_row=7, values_only=True) if row[0] == f"{today.year}年{today.month}月"
    ]
    assert this_month and isinstance(this_month[0][1], int)
    # Received this quarter: the searched order, the closed one and the one in good time
    # at least (the late ones may fall in the quarter before).
    assert sum(row[1] for row in months.iter_rows(min_row=7, max_row=9, values_only=True)) >= 3
    assert months["E7"].number_format == "0.0%"
    departments = {row[0]: row for row in book["按承办部门"].iter_rows(min_row=7, values_only=True)}
    assert desk["court"].civil.name in departments and "未派单" in departments

    # The breakdowns fit at the other width too.
    liaison.page.set_viewport_size({"width": 1280 if phone else 390, "height": 860})
    problems = breakdowns_fit(liaison)
    assert not problems, problems
