"""The public API for the court's WeChat mini-program and other front ends: codes,
applications and tracking with no session. The refusals first; each changes nothing
and says the same for every wrong combination where it must."""

import datetime as dt
import re

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from mediation.models import PhoneCode, SmsMessage, WorkOrder
from mediation.models.work_orders import Category, Channel
from tests.factories import WorkOrderFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
ID_NUMBER = "11010519491231002X"
CODES = "/api/v1/public/verification-codes/"
APPLICATIONS = "/api/v1/public/applications/"


@pytest.fixture
def api():
    # A front end with no session: every call stands alone.
    return APIClient(enforce_csrf_checks=True)


def last_code(phone=PHONE) -> str:
    body = SmsMessage.objects.filter(to=phone, template="verification_code").latest("id").body
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)


def ask(api, purpose="apply", phone=PHONE):
    return api.post(CODES, {"phone": phone, "purpose": purpose}, format="json")


def let_a_minute_pass():
    PhoneCode.objects.update(created_at=F("created_at") - dt.timedelta(seconds=61))


def application(**fields):
    body = {
        "phone": PHONE,
        "name": "王秀英",
        "id_number": ID_NUMBER,
        "respondent_name": "李建国",
        "respondent_phone": OTHER_PHONE,
        "facts": "He borrowed 20,000 yuan and has not paid it back.",
        "claim": "Pay back the 20,000 yuan.",
        "amount": "20000",
        "consent_online_mediation": True,
        "consent_electronic_service": True,
    }
    body.update(fields)
    return body


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# Codes -------------------------------------------------------------------------------


def test_a_code_request_with_a_bad_number_or_purpose_is_refused_per_field(api):
    response = api.post(CODES, {"phone": PHONE, "purpose": "sign"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["purpose"]
    response = api.post(CODES, {"phone": "12", "purpose": "apply"}, format="json")
    assert response.status_code == 400 and "not a valid phone number" in response.json()["phone"][0]
    assert not PhoneCode.objects.exists()


def test_a_second_code_too_soon_is_429_with_when_to_try_again(api):
    assert ask(api).status_code == 202
    response = ask(api)
    assert response.status_code == 429 and response["Retry-After"]
    assert response.json()["code"] == "too_soon"
    assert PhoneCode.objects.count() == 1


def test_a_tracking_code_is_202_whether_or_not_the_number_applied(api):
    WorkOrderFactory(requester_phone=PHONE)
    applied, never = ask(api, "track", PHONE), ask(api, "track", OTHER_PHONE)
    assert applied.status_code == never.status_code == 202
    assert applied.json() == never.json()


# Applications ------------------------------------------------------------------------


def test_an_id_number_failing_its_check_digit_is_a_field_error_and_keeps_the_code(api):
    ask(api)
    code = last_code()
    response = api.post(APPLICATIONS, application(code=code, id_number="110105194912310021"), format="json")
    assert response.status_code == 400
    assert "check digit" in response.json()["id_number"][0]
    assert not WorkOrder.objects.exists()
    assert PhoneCode.objects.get().failed_attempts == 0
    assert api.post(APPLICATIONS, application(code=code), format="json").status_code == 201


def test_a_wrong_code_is_400_on_code_and_the_sixth_try_429(api):
    ask(api)
    right = last_code()
    for tries_left in (4, 3, 2, 1, 0):
        response = api.post(APPLICATIONS, application(code=wrong(right)), format="json")
        assert response.status_code == 400 and list(response.json()) == ["code"], tries_left
    response = api.post(APPLICATIONS, application(code=right), format="json")
    assert response.status_code == 429 and list(response.json()) == ["code"]
    assert not WorkOrder.objects.exists()


def test_missing_consent_oversized_facts_and_evidence_are_field_errors(api):
    ask(api)
    response = api.post(
        APPLICATIONS,
        application(code=last_code(), consent_online_mediation=False, facts="x" * 5001, evidence=[1]),
        format="json",
    )
    assert response.status_code == 400
    assert {"facts", "evidence"} <= set(response.json())
    response = api.post(APPLICATIONS, application(code=last_code(), consent_online_mediation=False), format="json")
    assert response.status_code == 400 and "art. 4" in response.json()["consent_online_mediation"][0]
    assert not WorkOrder.objects.exists()


def test_an_application_makes_a_portal_order_and_texts_its_number(api, django_capture_on_commit_callbacks):
    ask(api)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(APPLICATIONS, application(code=last_code()), format="json")
    assert response.status_code == 201
    body = response.json()
    order = WorkOrder.objects.get()
    assert (body["number"], body["status"]) == (order.number, "received")
    assert (order.channel, order.category) == (Channel.PORTAL, Category.MEDIATION_REQUEST)
    assert SmsMessage.objects.filter(to=PHONE, template="application_received", body__contains=order.number).exists()
    # The answer names the order, never the ID number.
    assert ID_NUMBER not in response.content.decode()


# Tracking ----------------------------------------------------------------------------


def track(api, number, phone=PHONE, code=""):
    return api.get(f"/api/v1/public/work-orders/{number}/", {"phone": phone, "code": code})


def test_every_wrong_combination_is_the_same_404(api):
    mine = WorkOrderFactory(requester_phone=PHONE)
    theirs = WorkOrderFactory(requester_phone=OTHER_PHONE)
    ask(api, "track")
    right = last_code()
    answers = [
        track(api, mine.number, code=wrong(right)),  # wrong code
        track(api, mine.number, phone=OTHER_PHONE, code=right),  # someone else's phone
        track(api, mine.number, phone="not a phone", code=right),
        track(api, mine.number),  # no code
        track(api, "GD-2026-999999", code=right),  # no such order (spends the code)
        track(api, theirs.number, code=right),  # another's order, with a used code
    ]
    assert {response.status_code for response in answers} == {404}
    assert len({response.content for response in answers}) == 1


def test_a_right_code_shows_ones_own_order_once(api):
    order = WorkOrderFactory(requester_phone=PHONE)
    ask(api, "track")
    code = last_code()
    response = track(api, order.number, code=code)
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["status"]) == (order.number, order.status)
    assert set(body) == {
        "number",
        "category",
        "received_at",
        "status",
        "status_text",
        "in_mediation",
        "case_numbers",
        "deadlines",
        "replies",
    }
    # A code is good for one look-up.
    assert track(api, order.number, code=code).status_code == 404


def test_the_code_may_come_in_a_header_and_stay_out_of_the_url(api):
    order = WorkOrderFactory(requester_phone=PHONE)
    ask(api, "track")
    response = api.get(
        f"/api/v1/public/work-orders/{order.number}/", {"phone": PHONE}, HTTP_X_VERIFICATION_CODE=last_code()
    )
    assert response.status_code == 200 and response.json()["number"] == order.number
    assert "code=" not in response.wsgi_request.get_full_path()


def test_another_persons_order_cannot_be_seen_with_ones_own_code(api):
    theirs = WorkOrderFactory(requester_phone=OTHER_PHONE)
    ask(api, "track")
    assert track(api, theirs.number, code=last_code()).status_code == 404


def test_the_public_api_is_throttled_per_client_address(api, settings):
    settings.APPLY_THROTTLE_REQUESTS = 1
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "public"}}
    ask(api)
    let_a_minute_pass()
    response = ask(api)
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert PhoneCode.objects.count() == 1


def test_the_schema_documents_the_public_api(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    schema = response.content.decode()
    for path in (CODES, APPLICATIONS, "/api/v1/public/work-orders/{number}/"):
        assert path in schema
