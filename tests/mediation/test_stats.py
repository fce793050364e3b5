"""Supervision figures: the report's growth figures, the yearly rates, breakdowns, and
the figures page with its CSV and Excel exports."""

import csv
import datetime as dt
import io
import itertools
import re
import urllib.parse
import zoneinfo

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from mediation.models import WorkOrder
from mediation.selectors.stats import work_order_figures
from mediation.services.api_tokens import create_api_token
from tests.factories import WorkOrderFactory

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DEADLINE_FIELDS = [
    "first_contact_hours",
    "completion_working_days",
    "first_contact_due",
    "completion_clock_start",
    "first_contact_warn_at",
    "completion_due",
    "completion_warn_at",
]
_numbers = itertools.count(1)


@pytest.fixture
def template_order(db):
    """A real order whose deadline fields the bulk rows copy."""
    return WorkOrderFactory()


def make_orders(template, specs):
    """Insert orders fast: each spec overrides fields of a copy of `template`."""
    deadlines = {name: getattr(template, name) for name in DEADLINE_FIELDS}
    orders = [
        WorkOrder(
            number=f"ST-{next(_numbers):07d}",
            **{
                "channel": "hotline",
                "category": "contact_judge",
                "requester_name": "Requester",
                "requester_phone": "13800000000",
                "content": "A request.",
                **deadlines,
                **spec,
            },
        )
        for spec in specs
    ]
    WorkOrder.objects.bulk_create(orders, batch_size=1000)


def received_in(year, count, **fields):
    moment = dt.datetime(year, 6, 15, 10, 0, tzinfo=SHANGHAI)
    return [{"received_at": moment + dt.timedelta(minutes=i), **fields} for i in range(count)]


def year_row(figures, year):
    (row,) = [row for row in figures["years"] if row["year"] == year]
    return row


def by_key(rows):
    return {row["key"]: row for row in rows}


# The report's growth figures --------------------------------------------------------


def test_work_orders_310_to_1362_grow_109_61_percent_a_year(template_order):
    make_orders(template_order, received_in(2018, 310) + received_in(2019, 57) + received_in(2020, 1362))

    figures = work_order_figures(year_from=2018, year_to=2020)

    assert [row["received"] for row in figures["years"]] == [310, 57, 1362]
    assert figures["received_cagr"] == 1.0961


@pytest.mark.slow
def test_hotline_calls_3607_to_8018_grow_49_09_percent_a_year(template_order):
    make_orders(template_order, received_in(2018, 3607) + received_in(2019, 41) + received_in(2020, 8018))

    figures = work_order_figures(year_from=2018, year_to=2020)

    assert [row["received"] for row in figures["years"]] == [3607, 41, 8018]
    assert figures["received_cagr"] == 0.4909


def test_growth_uses_only_the_first_and_last_years_and_their_distance(template_order):
    make_orders(template_order, received_in(2018, 100) + received_in(2019, 5) + received_in(2021, 400))

    figures = work_order_figures(year_from=2018, year_to=2021)

    assert [row["received"] for row in figures["years"]] == [100, 5, 0, 400]
    assert figures["received_cagr"] == round(4 ** (1 / 3) - 1, 4)


def test_growth_from_an_empty_first_year_is_not_computed(template_order):
    make_orders(template_order, received_in(2020, 12))

    figures = work_order_figures(year_from=2019, year_to=2020)

    assert figures["received_cagr"] is None
    assert year_row(figures, 2019)["on_time_rate"] is None


def test_an_order_belongs_to_the_year_of_its_receipt_in_beijing_time(template_order):
    # 31 December 2019, 20:00 UTC is already 1 January 2020 in Beijing.
    make_orders(template_order, [{"received_at": dt.datetime(2019, 12, 31, 20, 0, tzinfo=dt.UTC)}])

    figures = work_order_figures(year_from=2019, year_to=2020)

    assert [row["received"] for row in figures["years"]] == [0, 1]


def test_the_api_serves_the_same_growth_to_a_liaison_and_an_integration(template_order, liaison):
    make_orders(template_order, received_in(2018, 310) + received_in(2019, 6) + received_in(2020, 1362))
    _token, raw = create_api_token(name="statistics-bureau")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    liaison_client = APIClient()
    liaison_client.force_login(liaison)

    for client in (liaison_client, token_client):
        response = client.get("/api/v1/stats/work-orders/", {"from": 2018, "to": 2020})
        assert response.status_code == 200
        body = response.json()
        assert body["received_cagr"] == 1.0961
        assert [row["received"] for row in body["years"]] == [310, 6, 1362]


# Rates on a hand-made year ---------------------------------------------------------

BASE = dt.datetime(2019, 6, 3, 9, 0, tzinfo=SHANGHAI)
DUE = BASE + dt.timedelta(days=7)


@pytest.fixture
def hand_made_year(template_order, civil, other_department):
    """Eight orders of 2019 and one of 2018, each with a known fate."""
    on_time = BASE + dt.timedelta(days=1)
    late = BASE + dt.timedelta(days=10)
    closing = BASE + dt.timedelta(days=12)

    def closed(replied_at, satisfaction="", visited=True, **fields):
        return {
            "status": Status.CLOSED,
            "replied_at": replied_at,
            "closed_at": closing,
            "return_visited_at": closing if visited else None,
            "return_visit_satisfaction": satisfaction,
            **fields,
        }

    specs = {
        "A": closed(on_time, "satisfied", department=civil),
        "B": closed(late, "basically", department=civil, category="urge"),
        "C": closed(on_time, "unsatisfied", department=other_department, channel="wechat"),
        # Replied at the very deadline is on time; visited but the requester was not reached.
        "D": closed(DUE, "", department=other_department, channel="wechat"),
        "H": closed(on_time, visited=False, department=civil, channel="window"),
        "E": {"status": Status.REPLIED, "replied_at": on_time, "department": civil, "channel": "portal"},
        "F": {"status": Status.IN_PROGRESS, "department": civil},
        "G": {"status": Status.RECEIVED},
    }
    rows = [
        {"received_at": BASE, "completion_due": DUE, "requester_name": name, **spec} for name, spec in specs.items()
    ]
    rows.append(
        {
            "received_at": dt.datetime(2018, 9, 1, 9, 0, tzinfo=SHANGHAI),
            "status": Status.RECEIVED,
            "channel": "letter",
            "category": "other",
        }
    )
    make_orders(template_order, rows)
    # The template order (received now) is outside 2018-2019 and must not count.
    return civil, other_department


def test_yearly_rates_are_computed_from_closed_replied_and_visited_orders(hand_made_year):
    figures = work_order_figures(year_from=2018, year_to=2019)

    row = year_row(figures, 2019)
    assert (row["received"], row["closed"], row["closed_on_time"], row["replied"]) == (8, 5, 4, 6)
    assert row["on_time_rate"] == 0.8  # A, C, D, H of five closed; B replied late
    assert row["completion_rate"] == 0.625  # five closed of eight received
    assert row["reply_rate"] == 0.75  # six replied of eight
    assert row["return_visit_rate"] == 0.8  # four of five closed orders visited
    assert row["satisfaction_rate"] == 0.6667  # satisfied + basically of three rated visits


def test_a_year_is_counted_on_its_own(hand_made_year):
    figures = work_order_figures(year_from=2018, year_to=2019)

    row = year_row(figures, 2018)
    assert (row["received"], row["closed"], row["replied"]) == (1, 0, 0)
    assert row["completion_rate"] == 0.0
    assert row["on_time_rate"] is None
    assert row["satisfaction_rate"] is None


def test_figures_break_down_by_channel(hand_made_year):
    rows = by_key(work_order_figures(year_from=2018, year_to=2019)["by_channel"])

    assert set(rows) == {"hotline", "wechat", "window", "portal", "letter"}
    assert (rows["hotline"]["received"], rows["hotline"]["closed"], rows["hotline"]["closed_on_time"]) == (4, 2, 1)
    assert rows["hotline"]["on_time_rate"] == 0.5
    assert (rows["wechat"]["received"], rows["wechat"]["on_time_rate"]) == (2, 1.0)
    assert rows["portal"]["completion_rate"] == 0.0
    assert rows["letter"]["received"] == 1


def test_figures_break_down_by_category(hand_made_year):
    rows = by_key(work_order_figures(year_from=2018, year_to=2019)["by_category"])

    assert set(rows) == {"contact_judge", "urge", "other"}
    assert (rows["urge"]["received"], rows["urge"]["closed"], rows["urge"]["on_time_rate"]) == (1, 1, 0.0)
    assert (rows["contact_judge"]["received"], rows["contact_judge"]["closed"]) == (7, 4)
    assert rows["contact_judge"]["on_time_rate"] == 1.0


def test_figures_break_down_by_department_with_undispatched_orders_apart(hand_made_year):
    civil, other = hand_made_year
    rows = by_key(work_order_figures(year_from=2018, year_to=2019)["by_department"])

    assert set(rows) == {civil.name, other.name, ""}
    assert (rows[civil.name]["received"], rows[civil.name]["closed"], rows[civil.name]["closed_on_time"]) == (5, 3, 2)
    assert rows[civil.name]["completion_rate"] == 0.6
    assert (rows[other.name]["received"], rows[other.name]["on_time_rate"]) == (2, 1.0)
    assert rows[""]["received"] == 2


def test_a_department_sees_only_its_own_orders(hand_made_year):
    civil, _other = hand_made_year

    figures = work_order_figures(year_from=2018, year_to=2019, department_id=civil.pk)

    assert [row["received"] for row in figures["years"]] == [0, 5]
    assert [row["key"] for row in figures["by_department"]] == [civil.name]


# The figures page and its exports --------------------------------------------------

YEARS = {"from": 2018, "to": 2019}


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_figures_page_shows_the_liaison_the_whole_courts_numbers(client, liaison, hand_made_year):
    civil, other = hand_made_year

    response = signed_in(client, liaison).get("/figures/", YEARS)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert year_row(figures, 2019)["received"] == 8
    html = response.content.decode()
    assert "80.00\u00a0%" in html  # on-time rate of 2019
    assert "66.67\u00a0%" in html  # satisfaction rate of 2019
    assert civil.name in html and other.name in html


def test_the_figures_page_shows_the_growth(client, liaison, template_order):
    make_orders(template_order, received_in(2018, 310) + received_in(2019, 9) + received_in(2020, 1362))

    response = signed_in(client, liaison).get("/figures/", {"from": 2018, "to": 2020})

    html = response.content.decode()
    assert "109.61\u00a0%" in html
    assert "1362" in html and "310" in html


def test_the_csv_export_has_a_row_per_year_and_the_growth(client, liaison, hand_made_year):
    response = signed_in(client, liaison).get("/figures/export.csv", YEARS)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "work-order-figures-2018-2019.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Year", "Received", "Closed"]
    assert rows[1] == ["2018", "1", "0", "0", "", "0.0", "0.0", "", ""]
    assert rows[2] == ["2019", "8", "5", "4", "0.8", "0.625", "0.75", "0.8", "0.6667"]
    assert rows[-1][0] == "Compound annual growth of received orders"
    assert float(rows[-1][1]) == 7.0


def excel(response):
    return load_workbook(io.BytesIO(response.content))


def sheet_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_excel_export_holds_every_table_of_the_page_under_a_title_block(client, liaison, hand_made_year, settings):
    civil, other = hand_made_year

    response = signed_in(client, liaison).get("/figures/export.xlsx", YEARS)

    assert response.status_code == 200
    assert "work-order-figures-2018-2019.xlsx" in response["Content-Disposition"]
    book = excel(response)
    assert book.sheetnames == ["By year", "By channel", "By category", "By department"]
    for sheet in book.worksheets:
        rows = sheet_rows(sheet)
        assert rows[0][0] == settings.COURT_NAME
        assert rows[1][0] == "Work-order figures"
        assert rows[2][:2] == ["Period", "2018-2019: 2018-01-01 – 2019-12-31"]
        assert rows[3][0] == "Generated" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[3][1])
        # The header row is bold and stays in view; every column has a width.
        assert sheet.freeze_panes == "A7"
        assert rows[5][1:] == [
            "Received", "Closed", "Closed on time", "On-time rate", "Completion rate", "Reply rate",
            "Return-visit rate", "Satisfaction rate",
        ]  # fmt: skip
        assert all(cell.font.bold for cell in sheet[6])
        assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHI")
    by_year = book["By year"]
    assert sheet_rows(by_year)[5][0] == "Year"
    assert sheet_rows(by_year)[7] == [2019, 8, 5, 4, 0.8, 0.625, 0.75, 0.8, 0.6667]
    # Counts are whole numbers; rates are numbers shown as percentages, an empty cell where none.
    assert [cell.number_format for cell in by_year[8][4:]] == ["0.0%"] * 5
    assert by_year["E7"].value is None
    assert sheet_rows(by_year)[-1][:2] == ["Compound annual growth of received orders", 7]
    assert by_year.cell(by_year.max_row, 2).number_format == "0.0%"
    channels = {row[0]: row for row in sheet_rows(book["By channel"])[6:]}
    assert channels["WeChat account"][1:5] == [2, 2, 2, 1.0]
    categories = {row[0]: row for row in sheet_rows(book["By category"])[6:]}
    assert categories["Other"][1] == 1
    departments = {row[0]: row for row in sheet_rows(book["By department"])[6:]}
    assert departments[civil.name][1:3] == [5, 3]
    assert departments[other.name][1:5] == [2, 2, 2, 1.0]
    assert departments["Not dispatched"][1] == 2


def test_the_excel_export_is_in_the_exporters_language(client, liaison, hand_made_year):
    signed_in(client, liaison)

    response = client.get(
        "/figures/export.xlsx", {"period": "quarter", "year": 2019, "quarter": 2}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert urllib.parse.unquote(response["Content-Disposition"].split("''")[1]) == "工单统计数据-2019年第二季度.xlsx"
    book = excel(response)
    assert book.sheetnames == ["按月份", "按来源渠道", "按诉求类别", "按承办部门"]
    rows = sheet_rows(book["按月份"])
    assert rows[1][0] == "工单统计数据"
    assert rows[2] == ["统计期间", "2019年第二季度: 2019-04-01 – 2019-06-30"] + [None] * 7
    assert rows[5][:3] == ["月份", "已受理", "已办结"]
    assert [row[:2] for row in rows[6:9]] == [["2019年4月", 0], ["2019年5月", 0], ["2019年6月", 8]]


# Quarters and months ----------------------------------------------------------------


def test_a_quarter_is_shown_month_by_month(client, liaison, template_order):
    make_orders(
        template_order,
        [
            *({"received_at": dt.datetime(2025, 1, 31, 23, 30, tzinfo=SHANGHAI)} for _ in range(3)),
            *({"received_at": dt.datetime(2025, 3, 1, 0, 10, tzinfo=SHANGHAI)} for _ in range(2)),
            # Court time: 1 April in Shanghai, still 31 March in UTC; not in the first quarter.
            {"received_at": dt.datetime(2025, 4, 1, 7, 0, tzinfo=SHANGHAI)},
            {"received_at": dt.datetime(2024, 12, 31, 23, 0, tzinfo=SHANGHAI)},
        ],
    )

    response = signed_in(client, liaison).get("/figures/", {"period": "quarter", "year": 2025, "quarter": 1})

    assert response.status_code == 200
    figures = response.context["figures"]
    assert [(row["month"], row["received"]) for row in figures["rows"]] == [(1, 3), (2, 0), (3, 2)]
    assert sum(row["received"] for row in figures["by_channel"]) == 5
    html = response.content.decode()
    assert "Q1 2025" in html and "2025-01-01 – 2025-03-31" in html
    assert "By month" in html and "January 2025" in html and "March 2025" in html


def test_a_month_is_shown_on_its_own_and_its_export_follows(client, liaison, template_order):
    make_orders(
        template_order,
        [
            {"received_at": dt.datetime(2025, 3, 1, 0, 10, tzinfo=SHANGHAI)},
            {"received_at": dt.datetime(2025, 2, 28, 23, 50, tzinfo=SHANGHAI)},
        ],
    )
    signed_in(client, liaison)

    page = client.get("/figures/", {"period": "month", "month": "2025-03"})
    exported = client.get("/figures/export.xlsx", {"period": "month", "month": "2025-03"})

    assert [(row["month"], row["received"]) for row in page.context["figures"]["rows"]] == [(3, 1)]
    assert "/figures/export.xlsx?period=month&amp;month=2025-03" in page.content.decode()
    assert "work-order-figures-March-2025.xlsx" in exported["Content-Disposition"]
    rows = sheet_rows(excel(exported)["By month"])
    assert rows[2][1] == "March 2025: 2025-03-01 – 2025-03-31"
    assert rows[6][:2] == ["March 2025", 1]
    assert len(rows) == 7


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "month", "month": "2025-13"}, "Enter a month as YYYY-MM, e.g. 2026-03."),
        ({"period": "month", "month": "March"}, "Enter a month as YYYY-MM, e.g. 2026-03."),
        ({"period": "quarter", "year": 2025, "quarter": 5}, "Select a valid choice."),
        ({"period": "quarter", "year": "twenty", "quarter": 1}, "Enter a whole number."),
        ({"from": 2020, "to": 2018}, "The last year must not be before the first."),
        ({"from": 1990, "to": 2018}, "Enter a year from 2000 to"),
        ({"period": "decade"}, "Select a valid choice."),
    ],
)
def test_a_bad_period_gets_a_clear_error_and_no_figures(client, liaison, hand_made_year, params, message):
    signed_in(client, liaison)

    page = client.get("/figures/", params)
    exported = client.get("/figures/export.xlsx", params)

    assert page.status_code == 400
    assert page.context["figures"] is None
    html = page.content.decode()
    assert message in html
    assert "table" not in html and "Export Excel" not in html
    assert exported.status_code == 400
    assert message in exported.content.decode()


def test_a_period_not_yet_begun_is_refused(client, liaison):
    next_year = dt.date.today().year + 1

    response = signed_in(client, liaison).get("/figures/", {"period": "month", "month": f"{next_year}-01"})

    assert response.status_code == 400
    assert "Enter a year from 2000 to" in response.content.decode()


@pytest.mark.parametrize("url", ["/figures/", "/figures/export.csv", "/figures/export.xlsx"])
@pytest.mark.parametrize("who", ["judge", "nobody", "mediator"])
def test_people_without_a_supervising_role_may_not_see_the_figures(client, people, who, url):
    response = signed_in(client, people[who]).get(url, YEARS)
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/figures/", "/figures/export.csv", "/figures/export.xlsx"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url, YEARS)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_department_head_sees_only_their_departments_figures(client, head, hand_made_year):
    civil, other = hand_made_year

    page = signed_in(client, head).get("/figures/", YEARS)
    exported = client.get("/figures/export.csv", YEARS)
    api = APIClient()
    api.force_login(head)
    from_api = api.get("/api/v1/stats/work-orders/", YEARS)

    assert page.status_code == 200
    assert year_row(page.context["figures"], 2019)["received"] == 5
    html = page.content.decode()
    assert civil.name in html
    assert other.name not in html
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[2][:4] == ["2019", "5", "3", "2"]
    assert from_api.status_code == 200
    assert from_api.json()["department"] == civil.pk
    assert [row["received"] for row in from_api.json()["years"]] == [0, 5]


def test_a_department_liaison_sees_only_their_departments_figures(client, dept_liaison, hand_made_year):
    response = signed_in(client, dept_liaison).get("/figures/", YEARS)

    assert response.status_code == 200
    assert year_row(response.context["figures"], 2019)["received"] == 5


def test_a_department_head_without_a_department_sees_no_orders(client, head, hand_made_year):
    head.department = None
    head.save(update_fields=["department"])

    response = signed_in(client, head).get("/figures/", YEARS)

    assert response.status_code == 200
    assert [row["received"] for row in response.context["figures"]["years"]] == [0, 0]
