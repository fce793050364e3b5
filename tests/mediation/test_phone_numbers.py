"""Requesters' phone numbers are stored in E.164 however they were typed, refused
with a clear message when they are not numbers, and found by the desk's search
whole or in part; so are orders and cases by part of their numbers."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from mediation.models import WorkOrder
from mediation.services.api_tokens import create_api_token
from tests.factories import WorkOrderFactory, refresh
from tests.mediation.test_api import INTAKE_URL, intake, token_client
from tests.mediation.test_import import ledger_row, run_import, write_csv
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


@pytest.fixture
def hotline():
    _token, raw = create_api_token(name="hotline-12368")
    return token_client(raw)


def desk_numbers(client, query) -> set[str]:
    return {order.number for order in client.get(reverse("desk"), {"q": query}).context["page"]}


def test_a_number_typed_with_spaces_is_stored_in_e164_and_found_typed_without(client, liaison):
    client.force_login(liaison)
    response = client.post(
        reverse("work_order_intake"),
        {
            "channel": "hotline",
            "category": "consultation",
            "requester_name": "Li Hua",
            "requester_phone": "138 1234 5678",
            "requester_role": "other",
            "content": "How do I apply for mediation?",
        },
    )
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert str(order.requester_phone) == "+8613812345678"
    for typed in ("13812345678", "138-1234-5678", "+86 138 1234 5678", "5678", "1381234"):
        assert desk_numbers(client, typed) == {order.number}, typed
    # The page shows it as a Chinese reader writes it.
    page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    assert "138 1234 5678" in page


def test_an_intake_with_something_that_is_not_a_phone_number_is_refused_clearly(client, liaison):
    client.force_login(liaison)
    response = client.post(
        reverse("work_order_intake"),
        {
            "channel": "hotline",
            "category": "consultation",
            "requester_name": "Li Hua",
            "requester_phone": "12345",
            "requester_role": "other",
            "content": "Call me",
        },
    )
    assert response.status_code == 400
    assert "valid phone number" in " ".join(response.context["form"].errors["requester_phone"])
    assert not WorkOrder.objects.exists()


def test_the_api_stores_e164_and_refuses_a_bad_number_with_a_message(hotline):
    response = hotline.post(INTAKE_URL, intake(requester_phone="(010) 6512-3456"), format="json")
    assert response.status_code == 201
    assert str(WorkOrder.objects.get().requester_phone) == "+861065123456"
    response = hotline.post(INTAKE_URL, intake(external_id="HL-2", requester_phone="call after six"), format="json")
    assert response.status_code == 400
    assert "valid phone number" in response.json()["requester_phone"][0]


def test_a_number_from_abroad_is_accepted_with_its_country_code(liaison):
    order = WorkOrderFactory(requester_phone="+852 6123 4567")
    assert str(order.requester_phone) == "+85261234567"


def test_the_ledger_import_stores_e164(tmp_path):
    path = write_csv(tmp_path / "ledger.csv", [ledger_row("L-1", requester_phone="139 0000 2222")])
    status, _out, err = run_import(path)
    assert status == 0, err
    assert str(WorkOrder.objects.get().requester_phone) == "+8613900002222"


def test_partial_order_and_case_numbers_find_their_orders(client, people):
    order = order_in_state(Status.DISPATCHED, people, case_number="(2026)京0107民初9876号")
    other = WorkOrderFactory()
    client.force_login(people["liaison"])
    tail = order.number.split("-")[-1]
    assert order.number in desk_numbers(client, tail)
    assert other.number not in desk_numbers(client, tail)
    assert desk_numbers(client, "民初9876") == {order.number}
    assert desk_numbers(client, "初98") == {order.number}
    # Too short to search in part: whole numbers only.
    assert desk_numbers(client, "98") == set()
    assert desk_numbers(client, "（2026）京0107民初9876") == {order.number}


def test_the_migration_converts_stored_numbers_and_keeps_what_is_not_a_number(liaison):
    converted = WorkOrderFactory()
    kept = WorkOrderFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mediation_workorder SET requester_phone = %s WHERE id = %s", ["138 1234 5678", converted.pk]
        )
        cursor.execute(
            "UPDATE mediation_workorder SET requester_phone = %s WHERE id = %s", ["ask at window 3", kept.pk]
        )
    migration = importlib.import_module("mediation.migrations.0010_desk_clocks_and_phones")
    migration.phones_to_e164(apps, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, requester_phone FROM mediation_workorder")
        rows = dict(cursor.fetchall())
    assert rows[converted.pk] == "+8613812345678"
    assert rows[kept.pk] == "ask at window 3"
    assert str(refresh(kept).requester_phone) == "ask at window 3"
