"""Figures after the seal on a small known dataset: judicial confirmation (applied,
confirmed, rejected, not accepted, days to decide), obligations (due, on time, late,
overdue) and the voluntary performance rate, per year, mediator and department; the
API, the page and its exports; and the work order's return visit line."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from documents.models import CourtDocument, JudicialConfirmation
from documents.selectors_figures import after_seal_figures
from mediation.models import MediationCase
from mediation.roles import Role
from tests.after_seal import become_overdue, confirm, obligations_of, perform, sealed_world
from tests.factories import staff
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)
Status = JudicialConfirmation.Status


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T10:00"))


@pytest.fixture
def dataset(people):
    """A (mediator Gao, civil division): confirmed in 10 days; instalment 1 on time,
    2 overdue, 3 due in 2027. B (mediator Liu, filing division): rejected in 20 days;
    a 2026 term late. C (Gao): not accepted, then applied again and pending; both its
    2026 terms on time. D (Liu): no application; a 2025 term on time.

    Built through the services at the days named: an application is made within 30
    days of the seal and nothing is performed before it, so the 2025 term is D's (a
    case sealed in 2025) rather than B's, and C applies again within its 30 days."""
    gao = staff(Role.MEDIATOR, people["judge"].department, full_name="Gao Lan")
    liu = people["mediator"]
    a, agreement_a = sealed_world(gao, people["judge"], label="A")
    confirm(a, agreement_a, applied_at=at("2026-09-01"), decided_at=at("2026-09-11"), serve=False)
    first, second, _third = obligations_of(a, agreement_a)
    perform(a, first, on=dt.date(2026, 10, 5))
    become_overdue(second)

    b, agreement_b = sealed_world(
        liu, people["judge"], label="B", dates=("2026-03-01",), sealed_on=dt.date(2026, 1, 20)
    )
    confirm(
        b,
        agreement_b,
        status=Status.REJECTED,
        applied_at=at("2026-02-01"),
        decided_at=at("2026-02-21"),
        serve=False,
    )
    [late] = obligations_of(b, agreement_b)
    perform(b, late, on=dt.date(2026, 3, 5))

    d, agreement_d = sealed_world(liu, people["judge"], label="D", dates=("2025-12-01",))
    [on_time] = obligations_of(d, agreement_d)
    perform(d, on_time, on=dt.date(2025, 11, 30))

    c, agreement_c = sealed_world(
        gao, people["judge"], label="C", dates=("2026-06-01", "2026-08-01"), sealed_on=dt.date(2026, 4, 28)
    )
    confirm(
        c,
        agreement_c,
        status=Status.NOT_ACCEPTED,
        applied_at=at("2026-05-01"),
        decided_at=at("2026-05-03"),
        serve=False,
    )
    confirm(c, agreement_c, status=Status.APPLIED, applied_at=at("2026-05-20"), serve=False)
    for obligation in obligations_of(c, agreement_c):
        perform(c, obligation, on=obligation.due_date - dt.timedelta(days=2))
    return {
        "a": a,
        "b": b,
        "c": c,
        "gao": gao,
        "liu": liu,
        "civil": people["judge"].department,
        "filing": liu.department,
    }


def counts(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("year", "mediator", "department")}


def test_the_yearly_figures_of_a_known_dataset(dataset):
    figures = after_seal_figures(year_from=2025, year_to=2027, today=TODAY)
    assert [counts(row) for row in figures["years"]] == [
        {
            "applied": 0,
            "confirmed": 0,
            "rejected": 0,
            "not_accepted": 0,
            "average_days_to_decide": None,
            "obligations_due": 1,
            "performed_on_time": 1,
            "performed_late": 0,
            "overdue": 0,
            "agreements_due": 1,
            "agreements_performed_voluntarily": 1,
            "voluntary_performance_rate": 1.0,
        },
        {
            "applied": 4,
            "confirmed": 1,
            "rejected": 1,
            "not_accepted": 1,
            "average_days_to_decide": 15.0,
            "obligations_due": 5,
            "performed_on_time": 3,
            "performed_late": 1,
            "overdue": 1,
            "agreements_due": 3,
            "agreements_performed_voluntarily": 1,
            "voluntary_performance_rate": 0.3333,
        },
        {
            "applied": 0,
            "confirmed": 0,
            "rejected": 0,
            "not_accepted": 0,
            "average_days_to_decide": None,
            "obligations_due": 1,
            "performed_on_time": 0,
            "performed_late": 0,
            "overdue": 0,
            "agreements_due": 0,
            "agreements_performed_voluntarily": 0,
            "voluntary_performance_rate": None,
        },
    ]
    assert [row["year"] for row in figures["years"]] == [2025, 2026, 2027]


def test_an_application_for_enforcement_means_not_performed_voluntarily(dataset):
    c = dataset["c"]
    blob = CourtDocument.objects.filter(case=dataset["a"].case).first()
    assert blob is not None  # A's ruling; any blob stands in for the package here
    CourtDocument.objects.create(
        case=c.case,
        kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION,
        status=CourtDocument.Status.SEALED,
        verification_code="ENFO-RCED-0001",
        content={},
        content_hash="0" * 64,
        locked_blob=blob.sealed_blob,
        latest_blob=blob.sealed_blob,
        sealed_blob=blob.sealed_blob,
    )
    [year] = after_seal_figures(year_from=2026, year_to=2026, today=TODAY)["years"]
    assert (year["agreements_due"], year["agreements_performed_voluntarily"]) == (3, 0)
    assert year["voluntary_performance_rate"] == 0.0


def test_the_figures_per_mediator_and_per_department(dataset):
    figures = after_seal_figures(year_from=2026, year_to=2026, today=TODAY)
    gao, liu = dataset["gao"], dataset["liu"]
    by_mediator = {row["mediator"]["id"]: row for row in figures["by_mediator"]}
    assert set(by_mediator) == {gao.pk, liu.pk}
    assert by_mediator[gao.pk]["mediator"]["name"] == "Gao Lan"
    assert counts(by_mediator[gao.pk]) == {
        "applied": 3,
        "confirmed": 1,
        "rejected": 0,
        "not_accepted": 1,
        "average_days_to_decide": 10.0,
        "obligations_due": 4,
        "performed_on_time": 3,
        "performed_late": 0,
        "overdue": 1,
        "agreements_due": 2,
        "agreements_performed_voluntarily": 1,
        "voluntary_performance_rate": 0.5,
    }
    assert counts(by_mediator[liu.pk]) == {
        "applied": 1,
        "confirmed": 0,
        "rejected": 1,
        "not_accepted": 0,
        "average_days_to_decide": 20.0,
        "obligations_due": 1,
        "performed_on_time": 0,
        "performed_late": 1,
        "overdue": 0,
        "agreements_due": 1,
        "agreements_performed_voluntarily": 0,
        "voluntary_performance_rate": 0.0,
    }
    by_department = {row["department"]["id"]: row for row in figures["by_department"]}
    assert counts(by_department[dataset["civil"].pk]) == counts(by_mediator[gao.pk])
    assert counts(by_department[dataset["filing"].pk]) == counts(by_mediator[liu.pk])


def test_a_department_sees_only_its_mediators_cases(dataset):
    figures = after_seal_figures(year_from=2026, year_to=2026, department_id=dataset["filing"].pk, today=TODAY)
    [year] = figures["years"]
    assert (year["applied"], year["rejected"], year["obligations_due"], year["performed_late"]) == (1, 1, 1, 1)
    assert [row["mediator"]["id"] for row in figures["by_mediator"]] == [dataset["liu"].pk]


def test_the_api_contract(client, dataset, people):
    url = reverse("api_after_seal_stats")
    client.force_login(people["liaison"])
    with time_machine.travel(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC), tick=False):
        body = client.get(url, {"from": 2025, "to": 2026}).json()
    assert set(body) == {"from", "to", "department", "years", "by_mediator", "by_department"}
    assert (body["from"], body["to"], body["department"]) == (2025, 2026, None)
    assert body["years"][1]["voluntary_performance_rate"] == 0.3333
    assert body["years"][1]["average_days_to_decide"] == 15.0
    assert {row["mediator"]["name"] for row in body["by_mediator"]} == {"Gao Lan", "Liu Yang"}
    # The department liaison: their department's cases only.
    client.force_login(people["dept_liaison"])
    body = client.get(url, {"from": 2026, "to": 2026}).json()
    assert body["department"] == dataset["civil"].pk and body["years"][0]["applied"] == 3
    # Bad input: a clear 400; others: refused.
    assert client.get(url, {"from": 2026}).status_code == 400
    assert client.get(url, {"from": 2027, "to": 2026}).status_code == 400
    for who in ("mediator", "judge", "nobody"):
        client.force_login(people[who])
        assert client.get(url, {"from": 2026, "to": 2026}).status_code == 403
    client.logout()
    assert client.get(url, {"from": 2026, "to": 2026}).status_code in (401, 403)


def test_the_figures_page_and_its_exports_show_them(client, dataset, people):
    client.force_login(people["liaison"])
    query = {"period": "year", "from": 2025, "to": 2026}
    page = client.get(reverse("figures"), query, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "自动履行率" in page and "司法确认与履行（按调解员）" in page and "Gao Lan" in page
    assert "33.33\u00a0%" in page
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("figures_after_seal_csv"), query).content.decode("utf-8-sig")))
    )
    header = next(row for row in rows if row and row[0] == "Year" and "Voluntary performance rate" in row)
    line = rows[rows.index(header) + 2]
    assert line[0] == "2026" and line[header.index("Voluntary performance rate")] == "0.3333"
    assert line[header.index("Applications for confirmation")] == "4"
    book = load_workbook(io.BytesIO(client.get(reverse("figures_after_seal_xlsx"), query).content))
    assert book.sheetnames == [
        "After the seal - years",
        "After the seal - mediators",
        "After the seal - departments",
    ]
    sheet = book["After the seal - years"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["2026", 4, 1, 1, 1, 5, 3, 1, 1, 3, 1, 15.0, 0.3333] in values


def test_the_work_order_shows_each_settled_cases_performance(client, dataset, people):
    a = dataset["a"]
    # The third instalment reported, waiting for the obligee's answer; the second still overdue.
    third = a.case.obligations.get(term_number=3)
    perform(a, third, on=dt.date(2026, 12, 6), confirmed=False)
    order = order_in_state("in_progress", people)
    MediationCase.objects.filter(pk=a.case.pk).update(work_order=order)
    client.force_login(people["liaison"])
    page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    line = "Agreement confirmed by the court ((2026)京0107民特1号); 1 of 3 instalments performed, 1 reported, 1 overdue"
    assert line in page
    chinese = client.get(reverse("work_order_detail", args=[order.number]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert (
        "协议经法院司法确认有效（(2026)京0107民特1号）；共3期，已履行1期，1项已报告履行，1项逾期"
        in chinese.content.decode()
    )
    [performance] = client.get(reverse("api_work_order", args=[order.number])).json()["performance"]
    assert performance == {
        "case": a.case.number,
        "confirmation": {"status": "confirmed", "case_number": "(2026)京0107民特1号"},
        "instalments": True,
        "total": 3,
        "due": 0,
        "reported": 1,
        "performed": 1,
        "disputed": 0,
        "overdue": 1,
        "next_due": None,
        "text": line,
    }


def test_the_line_names_the_next_due_date(dataset, people):
    from documents.performance_summary import performance_line, performance_summary

    summary = performance_summary(dataset["a"].case)
    assert performance_line(summary) == (
        "Agreement confirmed by the court ((2026)京0107民特1号); 1 of 3 instalments performed, 1 overdue, "
        "1 due 2027-01-07"
    )
    # A case still applying: the confirmation's state; no sealed agreement: no line.
    assert performance_line(performance_summary(dataset["c"].case)).startswith("Judicial confirmation: ")
    from tests.cases import make_case

    assert performance_summary(make_case(people["mediator"], label="D").case) is None
