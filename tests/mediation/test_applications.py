"""Applying for mediation without staff (/apply/) and following one's requests
(/apply/track/) with a mobile number proved by SMS codes; a referred application
brings its parties into the case. The refusals first: each changes nothing."""

import datetime as dt
import re

import pytest
from django.db.models import F
from django.urls import reverse

from mediation import id_numbers
from mediation.models import Application, AuditEntry, Party, PhoneCode, SmsMessage, WorkOrder
from mediation.models.work_orders import Category, Channel, RequesterRole
from mediation.services import work_orders as order_services
from mediation.services.applications import LIMITS
from tests.factories import WorkOrderFactory, refresh
from tests.security.test_request_bodies import CHUNK, post_endless_body, status_and_body
from tests.workflows import refer

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
ID_NUMBER = "11010519491231002X"
APPLY = "/apply/"
TRACK = "/apply/track/"


def last_code(phone=PHONE) -> str:
    body = SmsMessage.objects.filter(to=phone, template="verification_code").latest("id").body
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)


def form(**fields):
    data = {
        "phone": "138 0013 8000",
        "name": "王秀英",
        "id_number": ID_NUMBER,
        "applicant_kind": "person",
        "respondent_kind": "person",
        "respondent_name": "李建国",
        "respondent_phone": "139 0013 9000",
        "facts": "He borrowed 20,000 yuan in March and has not paid it back.",
        "claim": "Pay back the 20,000 yuan.",
        "amount": "20000",
        "consent_online_mediation": "on",
        "consent_electronic_service": "on",
        "action": "apply",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def ask_code(client, url=APPLY, phone="138 0013 8000"):
    return client.post(url, {"phone": phone, "action": "send_code"})


def nothing_recorded():
    return not WorkOrder.objects.exists() and not Application.objects.exists()


def errors_of(response, field):
    return [str(message) for message in response.context["form"].errors.get(field, [])]


# Refusals ---------------------------------------------------------------------------


def test_applying_without_a_code_is_refused_and_records_nothing(client):
    response = client.post(APPLY, form())
    assert response.status_code == 400
    assert errors_of(response, "code") == ["Enter the 6-digit code sent to your mobile number."]
    assert nothing_recorded()


def test_applying_with_a_wrong_code_counts_a_try_and_records_nothing(client):
    ask_code(client)
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    response = client.post(APPLY, form(code=wrong))
    assert response.status_code == 400
    assert errors_of(response, "code") == ["The code is not right. You can try 4 more times."]
    assert PhoneCode.objects.get().failed_attempts == 1
    assert nothing_recorded()


def test_the_sixth_try_on_one_code_is_refused_even_when_right(client):
    ask_code(client)
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        client.post(APPLY, form(code=wrong))
    response = client.post(APPLY, form(code=right))
    assert response.status_code == 429
    assert "tried too many times" in errors_of(response, "code")[0]
    assert nothing_recorded()


def test_a_code_for_another_number_does_not_prove_this_one(client):
    ask_code(client, phone=OTHER_PHONE)
    response = client.post(APPLY, form(code=last_code(OTHER_PHONE)))
    assert response.status_code == 400
    assert errors_of(response, "code") == ["Ask for a code first: none was sent to this number."]
    assert nothing_recorded()


def test_a_tracking_code_does_not_apply(client):
    ask_code(client, url=TRACK)
    response = client.post(APPLY, form(code=last_code()))
    assert response.status_code == 400 and errors_of(response, "code")
    assert nothing_recorded()


@pytest.mark.parametrize(
    ("id_number", "error"),
    [
        ("110105194912310021", "its check digit is wrong"),
        ("11010519491231002", "has 18 characters; this one has 17"),
        ("110105194913310021", "19491331 is not a date"),
        ("", "The ID number is required."),
    ],
)
def test_an_invalid_id_number_is_refused_with_what_is_wrong_and_the_code_is_not_used(client, id_number, error):
    ask_code(client)
    code = last_code()
    response = client.post(APPLY, form(code=code, id_number=id_number))
    assert response.status_code == 400
    assert error in errors_of(response, "id_number")[0]
    assert nothing_recorded()
    # The code is neither spent nor counted as a wrong try: the corrected form goes through.
    assert PhoneCode.objects.get().failed_attempts == 0
    assert client.post(APPLY, form(code=code)).status_code == 302


def test_missing_fields_and_consent_are_named_each(client):
    ask_code(client)
    response = client.post(
        APPLY,
        form(code=last_code(), name="", respondent_name="", facts="", claim="", consent_online_mediation=None),
    )
    assert response.status_code == 400
    for field in ("name", "respondent_name", "facts", "claim", "consent_online_mediation"):
        assert errors_of(response, field), field
    assert "art. 4" in errors_of(response, "consent_online_mediation")[0]
    assert nothing_recorded()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("facts", "事" * (LIMITS["facts"] + 1)),
        ("claim", "x" * (LIMITS["claim"] + 1)),
        ("name", "王" * (LIMITS["name"] + 1)),
        ("respondent_name", "李" * (LIMITS["respondent_name"] + 1)),
        ("amount", "1" * 21),
        ("phone", "1" * 33),
        ("code", "1234567"),
    ],
)
def test_oversized_input_is_refused_with_a_clear_error(client, field, value):
    ask_code(client)
    data = form(code=last_code())
    data[field] = value
    response = client.post(APPLY, data)
    assert response.status_code == 400
    assert "at most" in errors_of(response, field)[0]
    assert nothing_recorded()


def test_an_amount_that_is_not_money_is_refused(client):
    ask_code(client)
    for amount in ("-5", "twenty", "12.345", "NaN"):
        response = client.post(APPLY, form(code=last_code(), amount=amount))
        assert errors_of(response, "amount") == ["Give the amount in yuan, e.g. 12000 or 12000.50."], amount
    assert nothing_recorded()


@pytest.mark.parametrize("path", [APPLY, TRACK])
async def test_a_body_past_the_pages_cap_is_refused_while_it_streams_in(path, settings):
    sent, pulled = await post_endless_body(path)
    status, _body = status_and_body(sent)
    assert status == 413
    assert pulled * CHUNK <= settings.REQUEST_BODY_LIMITS[path] + CHUNK


def test_the_pages_are_throttled_per_client_address(client, settings):
    settings.APPLY_THROTTLE_REQUESTS = 2
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "apply"}}
    client.post(APPLY, form())
    client.post(APPLY, form())
    response = client.post(APPLY, form())
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many requests" in response.content.decode()
    response = ask_code(client, url=TRACK)
    assert response.status_code == 200  # tracking counts on its own
    assert nothing_recorded()


def test_without_the_csrf_token_nothing_is_sent(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(APPLY, {"phone": PHONE, "action": "send_code"})
    assert response.status_code == 403
    assert not PhoneCode.objects.exists()


def test_a_second_code_within_a_minute_is_refused_with_the_wait(client):
    ask_code(client)
    response = ask_code(client)
    assert response.status_code == 400
    assert "less than a minute ago" in errors_of(response, "phone")[0]
    assert response.context["resend_after"] > 0
    assert PhoneCode.objects.count() == 1


# Applying ---------------------------------------------------------------------------


def test_the_send_code_button_texts_a_code_and_shows_the_wait(client):
    response = ask_code(client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A code was sent to 138****8000" in page
    assert 'data-resend-after="60"' in page
    assert PhoneCode.objects.get(purpose="apply").phone == PHONE


def test_applying_records_a_portal_order_and_texts_its_number(client, sms_outbox, django_capture_on_commit_callbacks):
    ask_code(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(APPLY, form(code=last_code()))
    assert response.status_code == 302 and response["Location"] == reverse("apply_done")

    order = WorkOrder.objects.get()
    assert (order.channel, order.category, order.status) == (
        Channel.PORTAL,
        Category.MEDIATION_REQUEST,
        WorkOrder.Status.RECEIVED,
    )
    assert (str(order.requester_phone), order.requester_name, order.requester_role) == (
        PHONE,
        "王秀英",
        RequesterRole.PLAINTIFF,
    )
    assert order.requester_id_number == ID_NUMBER and order.requester_id_number_hash == id_numbers.keyed_hash(ID_NUMBER)
    application = order.application
    assert application.phone_verified_at is not None
    assert (application.respondent_name, str(application.respondent_phone), str(application.amount)) == (
        "李建国",
        OTHER_PHONE,
        "20000.00",
    )
    assert application.consent_online_mediation and application.consent_electronic_service
    [receipt] = [message for message in sms_outbox if message.template == "application_received"]
    assert receipt.to == PHONE and order.number in receipt.body
    # The code is spent: the same one cannot make a second order.
    assert PhoneCode.objects.get().used_at is not None
    # The audit trail refers to the order; it keeps no phone, name or ID number.
    entry = AuditEntry.objects.get(action="work_order.receive")
    assert PHONE not in str(entry.data) and ID_NUMBER not in str(entry.data) and "王秀英" not in str(entry.data)

    done = client.get(reverse("apply_done"))
    assert order.number in done.content.decode()


def test_a_used_code_cannot_apply_again(client):
    ask_code(client)
    code = last_code()
    client.post(APPLY, form(code=code))
    response = client.post(APPLY, form(code=code))
    assert response.status_code == 400
    assert errors_of(response, "code") == ["This code was already used. Ask for a new code."]
    assert WorkOrder.objects.count() == 1


def test_the_done_page_without_an_application_goes_back_to_the_form(client):
    response = client.get(reverse("apply_done"))
    assert response.status_code == 302 and response["Location"] == reverse("apply")


def test_the_application_page_is_in_chinese(client):
    response = client.get(APPLY, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 200
    assert "申请调解" in page and "发送验证码" in page


# Tracking ---------------------------------------------------------------------------


def let_a_minute_pass():
    """Codes already sent were sent a minute ago, so that another may be asked for."""
    PhoneCode.objects.update(created_at=F("created_at") - dt.timedelta(seconds=61))


def prove(client, phone=PHONE):
    ask_code(client, url=TRACK, phone=phone)
    return client.post(TRACK, {"phone": phone, "code": last_code(phone), "action": "show"})


def test_tracking_without_a_right_code_shows_nothing(client):
    WorkOrderFactory(requester_phone=PHONE, requester_name="王秀英")
    ask_code(client, url=TRACK)
    right = last_code()
    response = client.post(TRACK, {"phone": PHONE, "code": "000000" if right != "000000" else "111111"})
    assert response.status_code == 400
    assert "data-tracked-order" not in response.content.decode()
    assert "data-tracked-order" not in client.get(TRACK).content.decode()


def test_tracking_shows_only_the_proved_numbers_orders(client):
    mine = WorkOrderFactory(requester_phone=PHONE, requester_name="王秀英")
    theirs = WorkOrderFactory(requester_phone=OTHER_PHONE, requester_name="李建国")
    response = prove(client)
    assert response.status_code == 302
    page = client.get(TRACK).content.decode()
    assert mine.number in page and theirs.number not in page
    assert "138****8000" in page


def test_a_request_whose_number_a_clerk_typed_shows_its_state_not_the_courts_replies(client, people):
    from tests.workflows import order_in_state

    typed = order_in_state(WorkOrder.Status.REPLIED, people, requester_phone=PHONE)
    prove(client)
    page = client.get(TRACK).content.decode()
    assert typed.number in page
    assert "We called back." not in page


def test_a_code_for_ones_own_number_does_not_show_another_number(client):
    """Proving one number and then typing another shows nothing of the other."""
    theirs = WorkOrderFactory(requester_phone=OTHER_PHONE)
    ask_code(client, url=TRACK)
    response = client.post(TRACK, {"phone": OTHER_PHONE, "code": last_code(), "action": "show"})
    assert response.status_code == 400
    assert theirs.number not in client.get(TRACK).content.decode()


def test_asking_a_tracking_code_for_a_number_without_orders_answers_the_same(client):
    WorkOrderFactory(requester_phone=PHONE)
    with_orders = ask_code(client, url=TRACK, phone=PHONE)
    without = ask_code(client, url=TRACK, phone=OTHER_PHONE)
    assert with_orders.status_code == without.status_code == 200
    assert "A code was sent" in with_orders.content.decode() and "A code was sent" in without.content.decode()


def test_tracking_shows_status_in_plain_words_replies_and_the_case_number(client, people):
    ask_code(client)
    client.post(APPLY, form(code=last_code()))
    order = WorkOrder.objects.get()
    judge, liaison = people["judge"], people["liaison"]
    order_services.dispatch_work_order(order=order, actor=liaison, department=judge.department, assignee=judge)
    order_services.start_work_order(order=order, actor=judge)
    order_services.record_contact(order=refresh(order), actor=judge, note="Called")
    case = refer(refresh(order), judge, people["mediator"])
    order_services.reply_to_requester(
        order=refresh(order), actor=judge, content="A mediator will call you this week.", channel="sms"
    )

    let_a_minute_pass()
    prove(client)
    page = client.get(TRACK).content.decode()
    assert order.number in page
    assert "In mediation: a mediator will contact you." in page
    assert case.number in page
    assert "A mediator will call you this week." in page
    # The clerk's notes and the people handling it are not shown.
    assert judge.get_full_name() not in page


def test_the_tracking_proof_expires_and_can_be_ended(client, settings):
    WorkOrderFactory(requester_phone=PHONE)
    prove(client)
    assert "data-tracked-order" in client.get(TRACK).content.decode()
    client.post(TRACK, {"action": "stop"})
    assert "data-tracked-order" not in client.get(TRACK).content.decode()

    settings.TRACK_SESSION_SECONDS = -1
    WorkOrderFactory(requester_phone=OTHER_PHONE)
    prove(client, phone=OTHER_PHONE)
    assert "data-tracked-order" not in client.get(TRACK).content.decode()


def test_the_old_track_address_leads_to_tracking(client):
    response = client.get("/track/")
    assert response.status_code == 302 and response["Location"] == TRACK


# Referral ---------------------------------------------------------------------------


def applied_and_dispatched(client, people, **fields):
    ask_code(client)
    response = client.post(APPLY, form(code=last_code(), **fields))
    assert response.status_code == 302, response.context["form"].errors
    order = WorkOrder.objects.get()
    judge, liaison = people["judge"], people["liaison"]
    order_services.dispatch_work_order(order=order, actor=liaison, department=judge.department, assignee=judge)
    return refresh(order)


def test_referral_makes_the_applicant_the_plaintiff_with_phone_and_id_number(client, people):
    order = applied_and_dispatched(client, people)

    case = refer(order, people["judge"], people["mediator"])

    plaintiff, defendant = case.parties.all()
    assert (plaintiff.side, plaintiff.kind, plaintiff.name, str(plaintiff.phone), plaintiff.id_number) == (
        "plaintiff",
        Party.Kind.PERSON,
        "王秀英",
        PHONE,
        ID_NUMBER,
    )
    assert plaintiff.id_number_hash == id_numbers.keyed_hash(ID_NUMBER)
    assert (defendant.side, defendant.kind, defendant.name, str(defendant.phone), defendant.id_number) == (
        "defendant",
        Party.Kind.PERSON,
        "李建国",
        OTHER_PHONE,
        "",
    )
    events = case.events.filter(action="add_party")
    assert events.count() == 2
    assert all(event.actor == people["judge"] for event in events)
    entries = AuditEntry.objects.filter(action="mediation_case.add_party", target_id=str(case.pk))
    assert entries.count() == 2
    assert not any(ID_NUMBER in str(entry.data) or PHONE in str(entry.data) for entry in entries)


def test_an_applicant_for_a_company_makes_the_company_the_plaintiff_without_their_id_number(client, people):
    order = applied_and_dispatched(
        client,
        people,
        applicant_kind="organisation",
        organisation_name="上海某文化传播有限公司",
        organisation_credit_code="91310000MA1FL0000X",
        respondent_kind="organisation",
        respondent_name="北京某科技有限公司",
        respondent_phone="",
    )
    assert order.requester_role == RequesterRole.OTHER

    case = refer(order, people["judge"], people["mediator"])

    plaintiff, defendant = case.parties.all()
    assert (plaintiff.kind, plaintiff.name, plaintiff.credit_code, str(plaintiff.phone), plaintiff.id_number) == (
        Party.Kind.ORGANISATION,
        "上海某文化传播有限公司",
        "91310000MA1FL0000X",
        PHONE,
        "",
    )
    assert (defendant.kind, defendant.name, str(defendant.phone)) == (Party.Kind.ORGANISATION, "北京某科技有限公司", "")


def test_an_organisation_applicant_must_name_it(client):
    ask_code(client)
    response = client.post(APPLY, form(code=last_code(), applicant_kind="organisation", organisation_name=""))
    assert response.status_code == 400 and errors_of(response, "organisation_name")
    assert nothing_recorded()


def test_an_order_recorded_by_staff_brings_no_parties(people):
    order = WorkOrderFactory(requester_phone=PHONE, requester_role=RequesterRole.PLAINTIFF)
    order_services.dispatch_work_order(
        order=order, actor=people["liaison"], department=people["judge"].department, assignee=people["judge"]
    )
    case = refer(refresh(order), people["judge"], people["mediator"])
    assert not case.parties.exists()


def test_the_desk_sees_what_the_citizen_applied_for(client, people):
    order = applied_and_dispatched(client, people)
    client.force_login(people["judge"])
    page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    assert "data-application" in page
    assert "李建国" in page and "Pay back the 20,000 yuan." in page and "20000.00" in page
