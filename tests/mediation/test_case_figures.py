"""Mediation figures on a known set of cases (tests/case_figures.py has the table):
per year of referral and per mediator, organisation, department and cause of action;
the API and its refusals; the figures page and its exports; a mediator's own page;
the annual assessment and its export."""

import csv
import io

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from mediation.roles import API_CLIENT_GROUP
from mediation.selectors.case_figures import assessment, case_figures, mediator_load
from tests.case_figures import build_case_figures_world
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# referred, accepted, settled, failed, withdrawn, concluded, settlement rate, average days
YEAR_2025 = (3, 3, 1, 1, 1, 3, 0.3333, 15.0)
YEAR_2026 = (6, 5, 2, 1, 0, 3, 0.6667, 11.3)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module in a transaction rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        with django_db_blocker.unblock():
            built = build_case_figures_world()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def numbers(row: dict) -> tuple:
    return tuple(
        row[key]
        for key in (
            "referred",
            "accepted",
            "settled",
            "failed",
            "withdrawn",
            "concluded",
            "settlement_rate",
            "average_days_to_outcome",
        )
    )


def keyed(rows: list[dict], key: str) -> list[tuple]:
    def name(row):
        value = row[key]
        return value["name"] if isinstance(value, dict) else value

    return [(row["year"], name(row), numbers(row)) for row in rows]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# The selector: every number ----------------------------------------------------------------


def test_each_year_counts_the_cases_referred_in_it_in_court_time(world):
    figures = case_figures(year_from=2024, year_to=2026)

    assert [row["year"] for row in figures["years"]] == [2024, 2025, 2026]
    # 2024: one case, still pending; nothing concluded, so no rate and no average.
    assert numbers(figures["years"][0]) == (1, 1, 0, 0, 0, 0, None, None)
    # c3 (2025-12-31 20:00) is a 2025 case, c9 (2026-01-01 07:00, still 2025 in UTC) a 2026 one.
    assert numbers(figures["years"][1]) == YEAR_2025
    # The resumed case (c5) is open again: referred and accepted, not settled nor concluded.
    # The delegated case (c7) has no mediator yet: referred, not accepted.
    assert numbers(figures["years"][2]) == YEAR_2026


def test_a_year_without_cases_shows_zeros_and_no_rate(world):
    [year] = case_figures(year_from=2023, year_to=2023)["years"]

    assert numbers(year) == (0, 0, 0, 0, 0, 0, None, None)


def test_the_figures_per_mediator(world):
    figures = case_figures(year_from=2025, year_to=2026)

    assert keyed(figures["by_mediator"], "mediator") == [
        (2025, "Gao Lan", (2, 2, 1, 0, 1, 2, 0.5, 7.5)),
        (2025, "Liu Yang", (1, 1, 0, 1, 0, 1, 0.0, 30.0)),
        (2026, "Gao Lan", (3, 3, 1, 1, 0, 2, 0.5, 7.0)),
        (2026, "Liu Yang", (1, 1, 0, 0, 0, 0, None, None)),
        (2026, "Wu Min", (1, 1, 1, 0, 0, 1, 1.0, 20.0)),
        # The delegated case, waiting for a mediator: the "none" bucket.
        (2026, None, (1, 0, 0, 0, 0, 0, None, None)),
    ]


def test_the_figures_per_organisation(world):
    figures = case_figures(year_from=2025, year_to=2026)

    assert keyed(figures["by_organisation"], "organisation") == [
        (2025, "Chaoyang People's Mediation Committee", (2, 2, 1, 0, 1, 2, 0.5, 7.5)),
        (2025, None, (1, 1, 0, 1, 0, 1, 0.0, 30.0)),
        (2026, "Chaoyang People's Mediation Committee", (3, 3, 1, 1, 0, 2, 0.5, 7.0)),
        (2026, "Jinghua Commercial Mediation Centre", (2, 1, 1, 0, 0, 1, 1.0, 20.0)),
        (2026, None, (1, 1, 0, 0, 0, 0, None, None)),
    ]


def test_the_department_is_the_work_orders_else_the_judges(world):
    figures = case_figures(year_from=2025, year_to=2026)

    assert keyed(figures["by_department"], "department") == [
        # c2: its judge is of the civil division, its work order of the enforcement bureau.
        (2025, "Enforcement bureau", (1, 1, 0, 1, 0, 1, 0.0, 30.0)),
        (2025, "Second civil division", (1, 1, 1, 0, 0, 1, 1.0, 10.0)),
        (2025, None, (1, 1, 0, 0, 1, 1, 0.0, 5.0)),
        (2026, "Enforcement bureau", (1, 1, 0, 0, 0, 0, None, None)),
        (2026, "Second civil division", (4, 3, 2, 0, 0, 2, 1.0, 12.0)),
        (2026, None, (1, 1, 0, 1, 0, 1, 0.0, 10.0)),
    ]


def test_the_figures_per_cause_of_action(world):
    figures = case_figures(year_from=2025, year_to=2026)

    assert keyed(figures["by_cause"], "cause_of_action") == [
        (2025, "买卖合同纠纷", (1, 1, 0, 1, 0, 1, 0.0, 30.0)),
        (2025, "民间借贷纠纷", (2, 2, 1, 0, 1, 2, 0.5, 7.5)),
        (2026, "买卖合同纠纷", (2, 2, 0, 1, 0, 1, 0.0, 10.0)),
        (2026, "合同纠纷", (2, 1, 1, 0, 0, 1, 1.0, 20.0)),
        (2026, "民间借贷纠纷", (2, 2, 1, 0, 0, 1, 1.0, 4.0)),
    ]


def test_a_department_sees_only_its_own_cases(world):
    figures = case_figures(year_from=2025, year_to=2026, department_id=world.civil.pk)

    assert [numbers(row) for row in figures["years"]] == [
        (1, 1, 1, 0, 0, 1, 1.0, 10.0),
        (4, 3, 2, 0, 0, 2, 1.0, 12.0),
    ]
    assert {row["department"]["name"] for row in figures["by_department"]} == {"Second civil division"}


def test_the_figures_are_counted_in_a_few_queries_whatever_the_number_of_cases(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        case_figures(year_from=2000, year_to=2026)


# The API --------------------------------------------------------------------------------------


def test_the_api_gives_the_figures_per_year_and_breakdown(world):
    answer = signed_in(world.people["liaison"]).get(reverse("api_case_stats"), {"from": 2025, "to": 2026})

    assert answer.status_code == 200
    body = answer.json()
    assert [numbers(row) for row in body["years"]] == [YEAR_2025, YEAR_2026]
    assert body["years"][0] == {
        "year": 2025,
        "referred": 3,
        "accepted": 3,
        "settled": 1,
        "failed": 1,
        "withdrawn": 1,
        "concluded": 3,
        "settlement_rate": 0.3333,
        "average_days_to_outcome": 15.0,
    }
    assert body["by_department"][2]["department"] is None
    assert body["by_mediator"][0]["mediator"] == {"id": world.people["gao"].pk, "name": "Gao Lan"}
    assert body["by_organisation"][0]["organisation"] == {"id": world.chaoyang.pk, "name": world.chaoyang.name}
    assert [row["cause_of_action"] for row in body["by_cause"]][:2] == ["买卖合同纠纷", "民间借贷纠纷"]


def test_the_api_gives_department_staff_their_departments_figures(world):
    body = signed_in(world.people["dept_liaison"]).get(reverse("api_case_stats"), {"from": 2026, "to": 2026}).json()

    assert [numbers(row) for row in body["years"]] == [(4, 3, 2, 0, 0, 2, 1.0, 12.0)]
    assert body["department"] == world.civil.pk


def test_an_api_client_gets_the_whole_courts_figures(world):
    client_user = UserFactory(roles=[API_CLIENT_GROUP])

    body = signed_in(client_user).get(reverse("api_case_stats"), {"from": 2026, "to": 2026}).json()

    assert [numbers(row) for row in body["years"]] == [YEAR_2026]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "from"),
        ({"from": 2025}, "to"),
        ({"from": "last year", "to": 2026}, "from"),
        ({"from": 2026, "to": 2025}, "from"),
        ({"from": 1999, "to": 2026}, "from"),
        ({"from": 2000, "to": 2100}, "to"),
    ],
)
def test_the_api_refuses_bad_years_with_a_clear_error(world, query, field):
    answer = signed_in(world.people["liaison"]).get(reverse("api_case_stats"), query)

    assert answer.status_code == 400
    assert answer.json()[field]


@pytest.mark.parametrize("who", ["judge", "gao", "nobody"])
def test_the_api_refuses_those_who_do_not_see_the_figures(world, who):
    answer = signed_in(world.people[who]).get(reverse("api_case_stats"), {"from": 2025, "to": 2026})

    assert answer.status_code == 403


def test_the_api_refuses_a_stranger(world):
    answer = Client().get(reverse("api_case_stats"), {"from": 2025, "to": 2026})

    assert answer.status_code in (401, 403)
    assert "years" not in answer.json()


# The figures page and its exports ---------------------------------------------------------


def test_the_figures_page_has_a_mediation_section_in_chinese(world):
    page = signed_in(world.people["liaison"]).get(
        reverse("figures"), {"from": 2025, "to": 2026}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert page.status_code == 200
    [by_year, by_mediator, *_rest] = page.context["mediation_tables"]
    assert [numbers(row) for row in by_year["rows"]] == [YEAR_2025, YEAR_2026]
    assert by_mediator["rows"][-1]["label"] == "2026年 · 尚无调解员"
    text = page.content.decode()
    assert 'id="mediation-figures"' in text
    assert "调解成功率" in text
    assert "33.33\u00a0%" in text


def test_the_mediation_csv_has_every_table(world):
    answer = signed_in(world.people["liaison"]).get(reverse("figures_cases_csv"), {"from": 2025, "to": 2026})

    assert answer.status_code == 200
    assert answer["Content-Disposition"].endswith('mediation-figures-2025-2026.csv"')
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["Mediation by year"]
    assert rows[1] == [
        "Year",
        "Referred",
        "Accepted",
        "Settled",
        "Failed",
        "Withdrawn",
        "Concluded",
        "Settlement rate",
        "Average days to outcome",
    ]
    assert rows[2] == ["2025", "3", "3", "1", "1", "1", "3", "0.3333", "15.0"]
    assert rows[3] == ["2026", "6", "5", "2", "1", "0", "3", "0.6667", "11.3"]
    assert ["2026 · Liu Yang", "1", "1", "0", "0", "0", "0", "", ""] in rows
    assert ["2026 · No mediator yet", "1", "0", "0", "0", "0", "0", "", ""] in rows
    assert ["2026 · Jinghua Commercial Mediation Centre", "2", "1", "1", "0", "0", "1", "1.0", "20.0"] in rows
    assert ["2025 · No department", "1", "1", "0", "0", "1", "1", "0.0", "5.0"] in rows
    assert ["2026 · 合同纠纷 (Contract dispute)", "2", "1", "1", "0", "0", "1", "1.0", "20.0"] in rows
    titles = [row[0] for row in rows if len(row) == 1 and row[0].startswith("Mediation by")]
    assert titles == [
        "Mediation by year",
        "Mediation by mediator",
        "Mediation by organisation",
        "Mediation by department",
        "Mediation by cause of action",
    ]


def test_the_mediation_workbook_has_a_sheet_per_table_with_rates_as_percentages(world):
    answer = signed_in(world.people["liaison"]).get(reverse("figures_cases_xlsx"), {"from": 2025, "to": 2026})

    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == [
        "Mediation - years",
        "Mediation - mediators",
        "Mediation - organisations",
        "Mediation - departments",
        "Mediation - causes",
    ]
    years = [[cell.value for cell in row] for row in book["Mediation - years"].iter_rows(min_row=7)]
    assert years == [
        ["2025", 3, 3, 1, 1, 1, 3, 0.3333, 15.0],
        ["2026", 6, 5, 2, 1, 0, 3, 0.6667, 11.3],
    ]
    assert book["Mediation - years"]["H7"].number_format == "0.0%"


@pytest.mark.parametrize("name", ["figures_cases_csv", "figures_cases_xlsx"])
@pytest.mark.parametrize("who", ["judge", "gao", "nobody"])
def test_the_mediation_exports_refuse_those_who_do_not_see_the_figures(world, name, who):
    assert signed_in(world.people[who]).get(reverse(name)).status_code == 403


def test_the_mediation_export_refuses_a_bad_period(world):
    answer = signed_in(world.people["liaison"]).get(reverse("figures_cases_csv"), {"from": 2026, "to": 2024})

    assert answer.status_code == 400
    assert "The last year must not be before the first." in answer.content.decode()


# A mediator's own page ----------------------------------------------------------------------


def test_a_mediators_load_counts_open_cases_awaiting_acceptance_and_overdue(world):
    load = mediator_load(world.people["gao"])

    assert [(item["status"], item["count"]) for item in load["open_by_status"]] == [
        ("pending", 1),
        ("in_mediation", 1),
    ]
    assert load["open"] == 2
    assert load["awaiting_acceptance"] == 1
    # c0: pending since 2024, past its deadline.
    assert load["overdue"] == 1


def test_a_mediator_sees_their_own_load_and_outcomes(world):
    page = signed_in(world.people["gao"]).get(reverse("mediator_dashboard"), {"from": 2025, "to": 2026})

    assert page.status_code == 200
    assert page.context["load"]["awaiting_acceptance"] == 1
    assert [numbers(row) for row in page.context["years"]] == [
        (2, 2, 1, 0, 1, 2, 0.5, 7.5),
        (3, 3, 1, 1, 0, 2, 0.5, 7.0),
    ]
    text = page.content.decode()
    assert "Delegated to you, waiting for your acceptance" in text
    assert "Wu Min" not in text


def test_the_mediators_page_refuses_a_bad_year(world):
    page = signed_in(world.people["gao"]).get(reverse("mediator_dashboard"), {"from": "soon"})

    assert page.status_code == 400
    assert "Enter a year from 2000" in page.content.decode()


@pytest.mark.parametrize("who", ["nobody", "judge", "liaison"])
def test_my_mediation_page_is_for_mediators_only(world, who):
    assert signed_in(world.people[who]).get(reverse("mediator_dashboard")).status_code == 403


def test_another_mediator_cannot_see_a_mediators_page(world):
    url = reverse("mediator_dashboard_of", args=[world.people["gao"].pk])

    assert signed_in(world.people["liu"]).get(url).status_code == 403
    assert signed_in(world.people["gao"]).get(url).status_code == 200


@pytest.mark.parametrize(
    ("who", "mediator", "status"),
    [
        ("liaison", "gao", 200),
        ("superuser", "liu", 200),
        # Department staff: the mediators of their own department.
        ("dept_liaison", "gao", 200),
        ("head", "gao", 200),
        ("dept_liaison", "liu", 403),
        ("judge", "gao", 403),
        ("nobody", "gao", 403),
    ],
)
def test_the_staff_who_supervise_see_a_mediators_page(world, who, mediator, status):
    url = reverse("mediator_dashboard_of", args=[world.people[mediator].pk])

    assert signed_in(world.people[who]).get(url).status_code == status


def test_a_mediators_page_of_someone_who_is_not_a_mediator_is_not_found(world):
    url = reverse("mediator_dashboard_of", args=[world.people["judge"].pk])

    assert signed_in(world.people["liaison"]).get(url).status_code == 404


# The annual assessment ----------------------------------------------------------------------

# accepted, settled, failed, withdrawn, rate, days, overdue, recusals granted
ASSESSMENT_2026 = {
    "Gao Lan": ("Chaoyang People's Mediation Committee", 3, 1, 1, 0, 0.5, 7.0, 1, 0),
    "Liu Yang": (None, 1, 0, 0, 0, None, None, 1, 1),
    # Appointed from June 2026, no case yet.
    "Qian Hui": ("Chaoyang People's Mediation Committee", 0, 0, 0, 0, None, None, 0, 0),
    # A refused application does not count.
    "Wu Min": ("Jinghua Commercial Mediation Centre", 1, 1, 0, 0, 1.0, 20.0, 0, 0),
}


def assessed(row: dict) -> tuple:
    organisation = row["organisation"]["name"] if row["organisation"] else None
    keys = ("accepted", "settled", "failed", "withdrawn", "settlement_rate", "average_days_to_outcome", "overdue")
    return (organisation, *(row[key] for key in keys), row["recusals_granted"])


def test_the_assessment_lists_each_mediators_figures_for_the_year(world):
    rows = assessment(year=2026)

    # Zhou's appointment ended in 2024: not assessed in 2026.
    assert {row["mediator"]["name"]: assessed(row) for row in rows} == ASSESSMENT_2026
    assert [row["mediator"]["name"] for row in rows] == sorted(ASSESSMENT_2026)


def test_the_assessment_of_2025_counts_that_years_cases_and_recusals(world):
    rows = {row["mediator"]["name"]: assessed(row) for row in assessment(year=2025)}

    # c2 concluded after its deadline: overdue. Gao's recusal was granted in 2025.
    assert rows["Liu Yang"] == (None, 1, 0, 1, 0, 0.0, 30.0, 1, 0)
    assert rows["Gao Lan"] == ("Chaoyang People's Mediation Committee", 2, 1, 0, 1, 0.5, 7.5, 0, 1)


def test_the_assessment_page_sorts_by_a_column(world):
    page = signed_in(world.people["liaison"]).get(
        reverse("mediator_assessment"), {"year": 2026, "sort": "-settlement_rate"}
    )

    assert page.status_code == 200
    # Highest rate first; those without a rate last.
    assert [row["mediator"]["name"] for row in page.context["rows"]] == ["Wu Min", "Gao Lan", "Liu Yang", "Qian Hui"]
    assert page.context["rows"][0]["voluntary_performance_rate"] is None


def test_the_assessment_page_in_chinese(world):
    page = signed_in(world.people["liaison"]).get(
        reverse("mediator_assessment"), {"year": 2026}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    text = page.content.decode()
    assert "调解员年度考核" in text
    assert "Gao Lan" in text


def test_the_assessment_exports_as_csv(world):
    answer = signed_in(world.people["liaison"]).get(reverse("mediator_assessment_csv"), {"year": 2026})

    assert answer["Content-Disposition"].endswith('mediator-assessment-2026.csv"')
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[1] == [
        "Mediator",
        "Organisation",
        "Cases accepted",
        "Settled",
        "Failed",
        "Withdrawn",
        "Settlement rate",
        "Average days to outcome",
        "Overdue cases",
        "Replacements granted",
        "Voluntary performance rate",
    ]
    assert rows[2:] == [
        ["Gao Lan", "Chaoyang People's Mediation Committee", "3", "1", "1", "0", "0.5", "7.0", "1", "0", ""],
        ["Liu Yang", "", "1", "0", "0", "0", "", "", "1", "1", ""],
        ["Qian Hui", "Chaoyang People's Mediation Committee", "0", "0", "0", "0", "", "", "0", "0", ""],
        ["Wu Min", "Jinghua Commercial Mediation Centre", "1", "1", "0", "0", "1.0", "20.0", "0", "0", ""],
    ]


def test_department_staff_assess_the_mediators_of_their_departments_cases(world):
    page = signed_in(world.people["head"]).get(reverse("mediator_assessment"), {"year": 2026})

    # Civil division's 2026 cases: Gao's c4, c5 and Wu's c6 (c7 has no mediator, c8 is
    # the enforcement bureau's, c9 has no department).
    assert {row["mediator"]["name"]: (row["accepted"], row["settled"]) for row in page.context["rows"]} == {
        "Gao Lan": (2, 1),
        "Wu Min": (1, 1),
    }
    # Gao is of the civil division: the head may open her page; Wu is of none.
    text = page.content.decode()
    assert reverse("mediator_dashboard_of", args=[world.people["gao"].pk]) in text
    assert reverse("mediator_dashboard_of", args=[world.people["wu"].pk]) not in text


@pytest.mark.parametrize("name", ["mediator_assessment", "mediator_assessment_csv"])
@pytest.mark.parametrize("who", ["judge", "gao", "nobody"])
def test_the_assessment_refuses_those_who_do_not_see_the_figures(world, name, who):
    assert signed_in(world.people[who]).get(reverse(name), {"year": 2026}).status_code == 403


@pytest.mark.parametrize("name", ["mediator_assessment", "mediator_assessment_csv"])
def test_the_assessment_refuses_a_bad_year(world, name):
    answer = signed_in(world.people["liaison"]).get(reverse(name), {"year": "1999"})

    assert answer.status_code == 400
    assert "Enter a year from 2000" in answer.content.decode()


def test_the_assessment_shows_the_voluntary_performance_rate_of_the_figures_after_the_seal(world, monkeypatch):
    import documents.selectors_figures

    asked = []

    def after_seal(**kwargs):
        asked.append(kwargs)
        gao = world.people["gao"]
        return {"by_mediator": [{"mediator": {"id": gao.pk, "name": "Gao Lan"}, "voluntary_performance_rate": 0.75}]}

    monkeypatch.setattr(documents.selectors_figures, "after_seal_figures", after_seal)

    page = signed_in(world.people["liaison"]).get(reverse("mediator_assessment"), {"year": 2026})

    assert asked == [{"year_from": 2026, "year_to": 2026, "department_id": None}]
    rates = {row["mediator"]["name"]: row["voluntary_performance_rate"] for row in page.context["rows"]}
    assert rates == {"Gao Lan": 0.75, "Liu Yang": None, "Qian Hui": None, "Wu Min": None}
    assert "75.00\u00a0%" in page.content.decode()


def test_a_quarters_figures_page_shows_the_mediation_figures_of_its_whole_year(world):
    page = signed_in(world.people["liaison"]).get(reverse("figures"), {"period": "quarter", "year": 2026, "quarter": 1})

    [by_year, *_rest] = page.context["mediation_tables"]
    assert [numbers(row) for row in by_year["rows"]] == [YEAR_2026]
    assert "Mediation figures count whole years" in page.content.decode()
