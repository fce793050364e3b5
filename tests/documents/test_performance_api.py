"""The obligations in the API: `obligations` in GET /api/v1/cases/<id>/, and
POST /api/v1/obligations/<id>/actions/<action>/ with its refusals (404 for who may not
see the case, 403 for the wrong side, 409 in the wrong state, 400 for bad input), each
changing nothing."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from documents.models import Obligation, ObligationStep
from documents.services import performance
from mediation.models import AuditEntry
from tests.documents import performance_world
from tests.documents.performance_world import obligation

built = performance_world.built
module_files = performance_world.module_files
_module_files = performance_world._module_files

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def act(built, user, term, action, body=None):
    return api(user).post(f"/api/v1/obligations/{built.by_term[term].pk}/actions/{action}/", body or {}, format="json")


def state(built, term) -> tuple:
    o = obligation(built, term)
    return (o.status, o.performed_on, ObligationStep.objects.filter(obligation=o).count(), AuditEntry.objects.count())


def test_the_case_lists_its_obligations(built):
    response = api(built.plaintiff).get(f"/api/v1/cases/{built.case.pk}/")
    assert response.status_code == 200
    rows = response.json()["obligations"]
    today = built.today
    p, d = built.plaintiff_party.name, built.defendant_party.name
    assert rows == [
        {"id": built.by_term[5].pk, "kind": "payment", "obligor": p, "obligee": d, "amount": "1000.00",
         "due_date": (today - dt.timedelta(days=1)).isoformat(), "status": "overdue"},
        {"id": built.by_term[2].pk, "kind": "payment", "obligor": d, "obligee": p, "amount": "20000.00",
         "due_date": (today + dt.timedelta(days=10)).isoformat(), "status": "due"},
        {"id": built.by_term[1].pk, "kind": "payment", "obligor": d, "obligee": p, "amount": "20000.00",
         "due_date": (today + dt.timedelta(days=40)).isoformat(), "status": "due"},
        {"id": built.by_term[3].pk, "kind": "payment", "obligor": d, "obligee": p, "amount": "10000.00",
         "due_date": (today + dt.timedelta(days=70)).isoformat(), "status": "due"},
        {"id": built.by_term[4].pk, "kind": "act", "obligor": p, "obligee": d, "amount": None,
         "due_date": None, "status": "due"},
    ]  # fmt: skip


def test_report_confirm_through_the_api(built):
    response = act(
        built, built.defendant, 2, "report_performed",
        {"performed_on": built.today.isoformat(), "note": "网银", "evidence": [built.shared_receipt.pk]},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "reported"
    assert list(obligation(built, 2).steps.get(step="reported").evidence.all()) == [built.shared_receipt]

    response = act(built, built.plaintiff, 2, "confirm")
    assert response.status_code == 200
    assert response.json()["status"] == "performed"
    listed = api(built.defendant).get(f"/api/v1/cases/{built.case.pk}/").json()["obligations"]
    assert {row["id"]: row["status"] for row in listed}[built.by_term[2].pk] == "performed"


def test_dispute_and_urge_through_the_api(built):
    performance.report_performed(obligation=obligation(built, 2), actor=built.defendant, performed_on=built.today)
    response = act(built, built.plaintiff, 2, "dispute", {"reason": "没有收到"})
    assert (response.status_code, response.json()["status"]) == (200, "disputed")
    response = act(built, built.mediator, 2, "urge", {"note": "电话督促"})
    assert (response.status_code, response.json()["status"]) == (200, "disputed")
    assert obligation(built, 2).steps.filter(step="urged", note="电话督促").exists()


def test_a_party_confirming_their_own_payment_gets_403(built):
    performance.report_performed(obligation=obligation(built, 2), actor=built.defendant, performed_on=built.today)
    before = state(built, 2)
    response = act(built, built.defendant, 2, "confirm")
    assert response.status_code == 403
    assert response.json()["detail"] == "You cannot confirm your own payment."
    assert state(built, 2) == before


def test_the_obligee_reporting_for_the_obligor_gets_403_even_with_bad_input(built):
    before = state(built, 2)
    response = act(built, built.plaintiff, 2, "report_performed", {"performed_on": "not a date"})
    assert response.status_code == 403
    assert "Only the side that owes it" in response.json()["detail"]
    assert state(built, 2) == before


def test_a_party_urging_gets_403(built):
    before = state(built, 5)
    response = act(built, built.defendant, 5, "urge", {"note": "快付"})
    assert response.status_code == 403 and "mediator" in response.json()["detail"]
    assert state(built, 5) == before


def test_the_wrong_state_gets_409(built):
    before = state(built, 2)
    response = act(built, built.plaintiff, 2, "confirm")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a performance reported and not yet answered can be confirmed."
    assert state(built, 2) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "performed_on"),
        ({"performed_on": "2026-02-30"}, "performed_on"),
        ({"performed_on": "TODAY+1"}, "performed_on"),
        ({"performed_on": "TODAY", "evidence": "1"}, "evidence"),
        ({"performed_on": "TODAY", "evidence": [999999]}, "evidence"),
        ({"performed_on": "TODAY", "evidence": ["OTHER"]}, "evidence"),
        ({"performed_on": "TODAY", "evidence": ["SIDE_ONLY"]}, "evidence"),
        ({"performed_on": "TODAY", "note": 5}, "note"),
    ],
)
def test_bad_reports_get_400_and_change_nothing(built, body, field):
    values = {
        "TODAY": built.today.isoformat(),
        "TODAY+1": (built.today + dt.timedelta(days=1)).isoformat(),
        "OTHER": built.other_document.pk,
        "SIDE_ONLY": built.side_only.pk,
    }
    body = {
        key: [values.get(v, v) for v in value] if isinstance(value, list) else values.get(value, value)
        if isinstance(value, str) else value
        for key, value in body.items()
    }  # fmt: skip
    before = state(built, 2)
    response = act(built, built.defendant, 2, "report_performed", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state(built, 2) == before


def test_a_dispute_without_reason_and_an_urge_without_note_get_400(built):
    performance.report_performed(obligation=obligation(built, 2), actor=built.defendant, performed_on=built.today)
    before = state(built, 2)
    response = act(built, built.plaintiff, 2, "dispute", {})
    assert response.status_code == 400 and "reason" in response.json()
    assert state(built, 2) == before
    before = state(built, 5)
    response = act(built, built.mediator, 5, "urge", {"note": ""})
    assert response.status_code == 400 and "note" in response.json()
    assert state(built, 5) == before


def test_who_may_not_see_the_case_gets_404(built):
    before = state(built, 2)
    for user in (built.other.defendant, built.nobody):
        assert act(built, user, 2, "report_performed", {"performed_on": built.today.isoformat()}).status_code == 404
        assert api(user).get(f"/api/v1/cases/{built.case.pk}/").status_code == 404
    assert act(built, built.defendant, 2, "pay_twice").status_code == 404
    assert api(built.defendant).post("/api/v1/obligations/999999/actions/confirm/").status_code == 404
    assert state(built, 2) == before


def test_the_obligation_actions_are_in_the_schema(built):
    response = api(built.plaintiff).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    schema = response.json()
    path = schema["paths"]["/api/v1/obligations/{obligation_id}/actions/{action}/"]
    assert set(path["post"]["responses"]) >= {"200", "400", "403", "404", "409"}
    assert set(schema["components"]["schemas"]["Obligation"]["properties"]) == {
        "id", "kind", "obligor", "obligee", "amount", "due_date", "status",
    }  # fmt: skip
    assert Obligation.Status.values == ["due", "reported", "performed", "disputed", "overdue"]


def test_the_obligor_may_send_the_receipt_with_the_report(built):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.models import Document
    from tests.identities import png_bytes

    response = api(built.defendant).post(
        f"/api/v1/obligations/{built.by_term[2].pk}/actions/report_performed/",
        {
            "performed_on": built.today.isoformat(),
            "evidence": [built.shared_receipt.pk],
            "receipt": SimpleUploadedFile("回单.png", png_bytes((70, 30)), content_type="image/png"),
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    evidence = list(obligation(built, 2).steps.get(step="reported").evidence.order_by("pk"))
    assert evidence[0] == built.shared_receipt
    assert evidence[1].kind == Document.Kind.PERFORMANCE_EVIDENCE and evidence[1].party == built.defendant_party


def test_a_receipt_that_is_no_document_gets_400(built):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = state(built, 2)
    response = api(built.defendant).post(
        f"/api/v1/obligations/{built.by_term[2].pk}/actions/report_performed/",
        {"performed_on": built.today.isoformat(), "receipt": SimpleUploadedFile("a.png", b"MZ\x90\x00 not an image")},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()
    assert state(built, 2) == before
