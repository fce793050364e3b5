"""The HTTP API under /api/v1/: token-authenticated intake, reading an order, acting on
it with the page's forms, the schema and the figures."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from mediation.models import ApiToken, AuditEntry, WorkOrder, WorkOrderEvent
from mediation.services.api_tokens import create_api_token, revoke_api_token
from tests.factories import refresh
from tests.workflows import order_in_state

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db

INTAKE_URL = "/api/v1/work-orders/"


def order_url(order):
    return f"/api/v1/work-orders/{order.number}/"


def action_url(order, action):
    return f"/api/v1/work-orders/{order.number}/actions/{action}/"


def intake(**overrides):
    body = {
        "external_id": "HL-20260105-0001",
        "channel": "hotline",
        "category": "case_query",
        "received_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "requester_name": "Wang Lei",
        "requester_phone": "13800001111",
        "case_number": "(2026)京0107民初123号",
        "content": "When is my hearing?",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def token_client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def hotline():
    _token, raw = create_api_token(name="hotline-12368")
    return token_client(raw)


@pytest.fixture
def wechat():
    _token, raw = create_api_token(name="wechat-account")
    return token_client(raw)


# Intake -------------------------------------------------------------------------


def test_intake_with_a_token_creates_the_order_with_number_status_and_deadlines(hotline):
    response = hotline.post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    order = WorkOrder.objects.get()
    assert body["number"] == order.number
    assert body["status"] == "received"
    assert body["external_id"] == "HL-20260105-0001"
    assert body["deadlines"]["first_contact_due"]
    assert body["deadlines"]["completion_due"]
    assert dt.datetime.fromisoformat(body["deadlines"]["completion_due"]) == order.completion_due
    assert order.external_source == "hotline-12368"
    assert order.case_number == "(2026)京0107民初123号"
    assert order.events.get().action == "receive"


def test_token_created_by_the_management_command_is_printed_and_works():
    out = io.StringIO()
    call_command("create_api_token", "wechat-bridge", stdout=out)
    raw = out.getvalue().strip()
    assert ApiToken.objects.get(name="wechat-bridge").key_prefix == raw[:10]

    response = token_client(raw).post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 201, response.content


def test_token_is_stored_only_as_a_hash():
    token, raw = create_api_token(name="hotline-12368")
    assert raw not in (token.key_hash, token.key_prefix)
    assert not ApiToken.objects.filter(key_hash=raw).exists()


def test_the_same_external_id_again_returns_the_same_order_with_200(hotline):
    first = hotline.post(INTAKE_URL, intake(), format="json")
    again = hotline.post(INTAKE_URL, intake(content="A retry by the hotline system."), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    assert WorkOrder.objects.count() == 1
    assert WorkOrder.objects.get().content == "When is my hearing?"


def test_the_same_external_id_from_another_system_is_another_order(hotline, wechat):
    from_hotline = hotline.post(INTAKE_URL, intake(), format="json")
    from_wechat = wechat.post(INTAKE_URL, intake(channel="wechat"), format="json")

    assert (from_hotline.status_code, from_wechat.status_code) == (201, 201)
    assert from_hotline.json()["number"] != from_wechat.json()["number"]
    assert WorkOrder.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"channel": "fax"}, {"channel"}),
        ({"category": "gossip"}, {"category"}),
        ({"channel": "fax", "category": "gossip"}, {"channel", "category"}),
        ({"requester_name": None, "content": None}, {"requester_name", "content"}),
        ({"external_id": None}, {"external_id"}),
        ({"received_at": "yesterday"}, {"received_at"}),
    ],
)
def test_invalid_intake_gets_400_with_messages_per_field_and_stores_nothing(hotline, overrides, fields):
    response = hotline.post(INTAKE_URL, intake(**overrides), format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == fields
    for field in fields:
        assert body[field] and all(isinstance(message, str) and message for message in body[field])
    assert not WorkOrder.objects.exists()


def test_intake_received_in_the_future_is_refused(hotline):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).isoformat()

    response = hotline.post(INTAKE_URL, intake(received_at=tomorrow), format="json")

    assert response.status_code == 400
    assert "future" in response.json()["received_at"][0]
    assert not WorkOrder.objects.exists()


def test_intake_time_without_a_utc_offset_is_refused(hotline):
    naive = (timezone.localtime() - dt.timedelta(hours=1)).replace(tzinfo=None).isoformat(timespec="seconds")

    response = hotline.post(INTAKE_URL, intake(received_at=naive), format="json")

    assert response.status_code == 400
    assert "offset" in response.json()["received_at"][0]
    assert not WorkOrder.objects.exists()


def test_intake_time_with_an_offset_is_kept_as_that_moment(hotline):
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    in_utc = moment.astimezone(dt.UTC).isoformat()

    response = hotline.post(INTAKE_URL, intake(received_at=in_utc), format="json")

    assert response.status_code == 201
    assert WorkOrder.objects.get().received_at == moment


def test_unknown_token_gets_401_and_stores_nothing():
    response = token_client("mdt_not-a-real-token").post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not WorkOrder.objects.exists()


def test_revoked_token_gets_401_and_stores_nothing():
    token, raw = create_api_token(name="hotline-12368")
    client = token_client(raw)
    assert client.post(INTAKE_URL, intake(external_id="before"), format="json").status_code == 201

    revoke_api_token(token=token)
    response = client.post(INTAKE_URL, intake(external_id="after"), format="json")

    assert response.status_code == 401
    assert list(WorkOrder.objects.values_list("external_id", flat=True)) == ["before"]


def test_token_of_a_deactivated_service_account_gets_401():
    token, raw = create_api_token(name="hotline-12368")
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])

    response = token_client(raw).post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 401
    assert not WorkOrder.objects.exists()


def test_no_authorization_header_gets_401_with_a_bearer_challenge():
    response = APIClient().post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not WorkOrder.objects.exists()


def test_malformed_authorization_header_gets_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")

    response = client.post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 401
    assert not WorkOrder.objects.exists()


def test_a_judge_signed_in_cannot_record_work_orders_through_the_api(judge):
    response = session_client(judge).post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


def test_the_general_liaison_signed_in_may_record_work_orders_through_the_api(liaison):
    response = session_client(liaison).post(INTAKE_URL, intake(), format="json")

    assert response.status_code == 201
    assert WorkOrder.objects.get().created_by == liaison


# Reading an order ---------------------------------------------------------------


def test_reading_a_closed_order_gives_its_status_timeline_and_outcome(people):
    order = order_in_state(Status.CLOSED, people)

    response = session_client(people["liaison"]).get(order_url(order))

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == order.number
    assert body["status"] == "closed"
    assert [entry["action"] for entry in body["timeline"]] == [
        "receive",
        "dispatch",
        "start",
        "reply",
        "submit",
        "close",
    ]
    assert body["timeline"][-1]["from_status"] == "awaiting_confirmation"
    assert body["timeline"][-1]["to_status"] == "closed"
    assert body["outcome"]["outcome"] == "Answered"
    assert body["outcome"]["closed_at"] is not None
    assert body["outcome"]["replied_at"] is not None
    assert body["department"] == people["judge"].department.name


def test_the_assigned_judge_can_read_the_order(people):
    order = order_in_state(Status.DISPATCHED, people)
    assert session_client(people["judge"]).get(order_url(order)).status_code == 200


@pytest.mark.parametrize("who", ["other_judge", "outside_judge", "nobody", "mediator"])
def test_someone_who_may_not_see_the_order_gets_404(people, who):
    order = order_in_state(Status.DISPATCHED, people)

    response = session_client(people[who]).get(order_url(order))

    assert response.status_code == 404
    assert order.number not in response.content.decode()


def test_a_hidden_order_and_a_missing_order_look_the_same(people):
    order = order_in_state(Status.DISPATCHED, people)
    client = session_client(people["other_judge"])

    hidden = client.get(order_url(order))
    missing = client.get("/api/v1/work-orders/GD-2026-999999/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_anonymous_reader_gets_401(people):
    order = order_in_state(Status.RECEIVED, people)
    assert APIClient().get(order_url(order)).status_code == 401


def test_the_integration_system_can_read_the_order_it_sent(hotline, people):
    number = hotline.post(INTAKE_URL, intake(), format="json").json()["number"]

    response = hotline.get(f"/api/v1/work-orders/{number}/")

    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert response.json()["timeline"][0]["action"] == "receive"


# Actions --------------------------------------------------------------------------


def test_dispatch_through_the_api_moves_the_order(people):
    order = order_in_state(Status.RECEIVED, people)
    judge = people["judge"]

    response = session_client(people["liaison"]).post(
        action_url(order, "dispatch"), {"department": judge.department_id, "assignee": judge.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dispatched"
    order = refresh(order)
    assert (order.status, order.department, order.assignee) == (Status.DISPATCHED, judge.department, judge)
    assert order.events.filter(action="dispatch", actor=people["liaison"]).count() == 1


def test_the_judge_takes_up_and_replies_through_the_api(people):
    order = order_in_state(Status.DISPATCHED, people)
    client = session_client(people["judge"])

    started = client.post(action_url(order, "start"), {}, format="json")
    replied = client.post(
        action_url(order, "reply"), {"content": "Hearing on Monday.", "channel": "sms"}, format="json"
    )

    assert (started.status_code, replied.status_code) == (200, 200)
    assert replied.json()["status"] == "replied"
    assert refresh(order).replies.get().content == "Hearing on Monday."


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"department"}),
        ({"department": 999999}, {"department"}),
        ({"department": "civil"}, {"department"}),
    ],
)
def test_dispatch_with_bad_fields_gets_400_per_field_and_changes_nothing(people, data, fields):
    order = order_in_state(Status.RECEIVED, people)
    before = (AuditEntry.objects.count(), WorkOrderEvent.objects.count())

    response = session_client(people["liaison"]).post(action_url(order, "dispatch"), data, format="json")

    assert response.status_code == 400
    assert set(response.json()) == fields
    assert refresh(order).status == Status.RECEIVED
    assert (AuditEntry.objects.count(), WorkOrderEvent.objects.count()) == before


def test_dispatch_to_a_judge_of_another_department_gets_400_on_the_assignee(people, civil):
    order = order_in_state(Status.RECEIVED, people)

    response = session_client(people["liaison"]).post(
        action_url(order, "dispatch"), {"department": civil.pk, "assignee": people["outside_judge"].pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"assignee"}
    assert refresh(order).status == Status.RECEIVED


def test_reply_without_content_gets_400_on_content(people):
    order = order_in_state(Status.IN_PROGRESS, people)

    response = session_client(people["judge"]).post(action_url(order, "reply"), {"channel": "sms"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"content"}
    assert refresh(order).status == Status.IN_PROGRESS


def test_an_action_the_state_does_not_allow_gets_409_and_changes_nothing(people):
    order = order_in_state(Status.RECEIVED, people)
    before = (AuditEntry.objects.count(), WorkOrderEvent.objects.count(), order.updated_at)

    response = session_client(people["liaison"]).post(action_url(order, "close"), {"outcome": "Done"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert order.number in body["detail"]
    assert "Received" in body["detail"]
    assert body["code"] == "transition_not_allowed"
    order = refresh(order)
    assert order.status == Status.RECEIVED
    assert (AuditEntry.objects.count(), WorkOrderEvent.objects.count(), order.updated_at) == before


def test_dispatching_an_order_twice_gets_409(people):
    order = order_in_state(Status.DISPATCHED, people)
    judge = people["judge"]

    response = session_client(people["liaison"]).post(
        action_url(order, "dispatch"), {"department": judge.department_id}, format="json"
    )

    assert response.status_code == 409
    assert refresh(order).events.filter(action="dispatch").count() == 1


@pytest.mark.parametrize(
    ("action", "state", "who", "data"),
    [
        ("close", Status.AWAITING_CONFIRMATION, "judge", {"outcome": "Done"}),
        ("close", Status.AWAITING_CONFIRMATION, "dept_liaison", {"outcome": "Done"}),
        ("close", Status.AWAITING_CONFIRMATION, "head", {"outcome": "Done"}),
        ("return", Status.DISPATCHED, "liaison", {"reason": "Not ours"}),
        ("reply", Status.IN_PROGRESS, "liaison", {"content": "Called back.", "channel": "phone"}),
    ],
)
def test_an_action_the_role_may_not_take_gets_403_and_changes_nothing(people, action, state, who, data):
    order = order_in_state(state, people)
    before = (AuditEntry.objects.count(), WorkOrderEvent.objects.count())

    response = session_client(people[who]).post(action_url(order, action), data, format="json")

    assert response.status_code == 403
    assert refresh(order).status == state
    assert (AuditEntry.objects.count(), WorkOrderEvent.objects.count()) == before


def test_an_action_on_an_order_the_user_cannot_see_gets_404(people):
    order = order_in_state(Status.DISPATCHED, people)

    response = session_client(people["other_judge"]).post(action_url(order, "start"), {}, format="json")

    assert response.status_code == 404
    assert refresh(order).status == Status.DISPATCHED


def test_an_unknown_action_gets_404(people):
    order = order_in_state(Status.RECEIVED, people)
    response = session_client(people["liaison"]).post(action_url(order, "delete"), {}, format="json")
    assert response.status_code == 404


def test_the_integration_token_may_read_but_not_act(hotline, people):
    number = hotline.post(INTAKE_URL, intake(), format="json").json()["number"]
    judge = people["judge"]

    response = hotline.post(
        f"/api/v1/work-orders/{number}/actions/dispatch/", {"department": judge.department_id}, format="json"
    )

    assert response.status_code == 403
    assert WorkOrder.objects.get(number=number).status == Status.RECEIVED


def test_anonymous_action_gets_401(people):
    order = order_in_state(Status.RECEIVED, people)
    response = APIClient().post(action_url(order, "close"), {"outcome": "x"}, format="json")
    assert response.status_code == 401


# Schema -------------------------------------------------------------------------


def test_the_openapi_schema_describes_the_api():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/work-orders/" in paths
    assert "post" in paths["/api/v1/work-orders/"]
    assert "/api/v1/work-orders/{number}/" in paths
    assert "/api/v1/work-orders/{number}/actions/{action}/" in paths
    assert "/api/v1/stats/work-orders/" in paths
    intake_schema = paths["/api/v1/work-orders/"]["post"]
    assert {"200", "201", "400", "401"} <= set(intake_schema["responses"])


# Figures --------------------------------------------------------------------------

STATS_URL = "/api/v1/stats/work-orders/"


def test_the_general_liaison_reads_the_figures(liaison):
    response = session_client(liaison).get(STATS_URL, {"from": 2018, "to": 2020})

    assert response.status_code == 200
    body = response.json()
    assert [row["year"] for row in body["years"]] == [2018, 2019, 2020]
    assert body["department"] is None


def test_a_judge_may_not_read_the_figures(judge):
    assert session_client(judge).get(STATS_URL, {"from": 2018, "to": 2020}).status_code == 403


def test_a_user_without_a_role_may_not_read_the_figures(nobody):
    assert session_client(nobody).get(STATS_URL, {"from": 2018, "to": 2020}).status_code == 403


def test_anonymous_figures_request_gets_401():
    response = APIClient().get(STATS_URL, {"from": 2018, "to": 2020})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_integration_token_reads_the_figures_of_the_whole_court(hotline):
    response = hotline.get(STATS_URL, {"from": 2018, "to": 2020})
    assert response.status_code == 200
    assert response.json()["department"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": 2018}, "to"),
        ({"to": 2020}, "from"),
        ({"from": "last", "to": 2020}, "from"),
        ({"from": 2021, "to": 2018}, "from"),
        ({"from": 1900, "to": 2020}, "from"),
        ({"from": 2000, "to": 2100}, "to"),
    ],
)
def test_bad_figures_parameters_get_400_on_the_field(liaison, params, field):
    response = session_client(liaison).get(STATS_URL, params)

    assert response.status_code == 400
    assert field in response.json()
