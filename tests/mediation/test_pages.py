"""The desk's pages: who may open what, the forms, filters and notifications."""

import pytest
from django.urls import reverse

from mediation.models import Notification, WorkOrder
from mediation.notifications import notify
from tests.factories import PASSWORD, WorkOrderFactory, refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


def detail_url(order):
    return reverse("work_order_detail", args=[order.number])


def action_url(order, action):
    return reverse("work_order_action", args=[order.number, action])


@pytest.mark.parametrize("name", ["desk", "my_work_orders", "work_order_intake", "figures", "notifications"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_signing_in_with_email_and_password_lands_a_liaison_on_the_desk(client, liaison):
    response = client.post(reverse("account_login"), {"login": liaison.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("desk")


def test_nobody_can_sign_up_on_their_own(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": "x-Long-pass-91", "password2": "x-Long-pass-91"},
    )
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()
    from mediation.models import User

    assert not User.objects.filter(email="new@example.test").exists()


def test_two_factor_setup_is_available_to_every_user(client, nobody):
    client.force_login(nobody)
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert response.status_code == 200


def test_a_user_without_a_role_sees_no_desk_and_no_order(client, nobody, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(nobody)
    assert client.get(reverse("desk")).status_code == 403
    assert client.get(detail_url(order)).status_code == 404
    assert client.post(action_url(order, "start"), {}).status_code == 404


def test_a_judge_cannot_open_another_judges_order(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["other_judge"])
    assert client.get(detail_url(order)).status_code == 404
    client.force_login(people["judge"])
    assert client.get(detail_url(order)).status_code == 200


def test_department_staff_see_their_departments_orders_only(client, people, other_department):
    ours = order_in_state(Status.DISPATCHED, people)
    theirs = order_in_state(Status.RECEIVED, people)
    from mediation.services import work_orders as services

    services.dispatch_work_order(order=theirs, actor=people["liaison"], department=other_department)
    client.force_login(people["head"])
    assert client.get(detail_url(ours)).status_code == 200
    assert client.get(detail_url(theirs)).status_code == 404
    desk = client.get(reverse("desk")).content.decode()
    assert ours.number in desk and theirs.number not in desk


def test_a_judges_desk_lists_only_their_orders(client, people):
    mine = order_in_state(Status.DISPATCHED, people)
    unassigned = order_in_state(Status.RECEIVED, people)
    client.force_login(people["judge"])
    page = client.get(reverse("my_work_orders")).content.decode()
    assert mine.number in page and unassigned.number not in page


def test_liaison_records_a_hotline_call(client, liaison):
    client.force_login(liaison)
    response = client.post(
        reverse("work_order_intake"),
        {
            "channel": "hotline",
            "category": "contact_judge",
            "requester_name": "Wu Fang",
            "requester_phone": "138 0000 1111",
            "requester_role": "plaintiff",
            "case_number": "（2026）京0107民初12号",
            "content": "Please ask the judge to call back.",
        },
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(order)
    assert (order.channel, order.status, order.created_by) == ("hotline", Status.RECEIVED, liaison)
    assert order.case_number == "(2026)京0107民初12号"


def test_intake_errors_are_shown_next_to_the_field_and_nothing_is_stored(client, liaison):
    client.force_login(liaison)
    response = client.post(
        reverse("work_order_intake"),
        {
            "channel": "hotline",
            "category": "contact_judge",
            "requester_name": "Wu",
            "requester_phone": "call me",
            "content": "x",
            "requester_role": "other",
        },
    )
    assert response.status_code == 400
    assert "requester_phone" in response.context["form"].errors
    assert not WorkOrder.objects.exists()


def test_a_judge_may_not_record_orders(client, judge):
    client.force_login(judge)
    assert client.get(reverse("work_order_intake")).status_code == 403


def test_the_detail_page_offers_only_the_actions_the_user_may_take_now(client, people):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    actions = list(client.get(detail_url(order)).context["action_forms"])
    assert actions == ["dispatch", "supervise"]
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["judge"])
    actions = list(client.get(detail_url(order)).context["action_forms"])
    assert actions == ["start", "record_contact", "refer_to_mediation", "return"]


def test_dispatching_from_the_page(client, people, civil):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    response = client.post(
        action_url(order, "dispatch"),
        {"dispatch-department": civil.pk, "dispatch-assignee": people["judge"].pk, "dispatch-note": "Urgent"},
    )
    assert response.status_code == 302
    order = refresh(order)
    assert (order.status, order.assignee) == (Status.DISPATCHED, people["judge"])


def test_an_invalid_action_form_shows_its_errors_and_changes_nothing(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["judge"])
    response = client.post(action_url(order, "return"), {"return-reason": ""})
    assert response.status_code == 400
    assert "reason" in response.context["action_forms"]["return"].errors
    assert refresh(order).status == Status.DISPATCHED


def test_an_action_the_state_does_not_allow_gets_a_clear_message(client, people):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    response = client.post(action_url(order, "close"), {"close-outcome": "Done"})
    assert response.status_code == 409
    assert "is not possible now" in response.content.decode()
    assert refresh(order).status == Status.RECEIVED


def test_an_action_the_role_may_not_take_is_forbidden(client, people):
    order = order_in_state(Status.AWAITING_CONFIRMATION, people)
    client.force_login(people["judge"])
    response = client.post(action_url(order, "close"), {"close-outcome": "Done"})
    assert response.status_code == 403
    assert refresh(order).status == Status.AWAITING_CONFIRMATION


def test_unknown_action_is_not_found(client, people):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    assert client.post(action_url(order, "explode"), {}).status_code == 404


@pytest.fixture
def desk_orders(people):
    return {
        "received": WorkOrderFactory(requester_name="Zhou Jianguo", requester_phone="13900001111", channel="wechat"),
        "dispatched": order_in_state(Status.DISPATCHED, people, case_number="(2026)京0107民初9号", category="urge"),
        "closed": order_in_state(Status.CLOSED, people),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=received", {"received"}),
        ("channel=wechat", {"received"}),
        ("category=urge", {"dispatched"}),
        ("q=13900001111", {"received"}),
        ("q=jianguo", {"received"}),
        ("q=（2026）京0107民初9号", {"dispatched"}),
    ],
)
def test_desk_filters_and_search(client, people, desk_orders, query, expected):
    client.force_login(people["liaison"])
    page = client.get(reverse("desk") + "?" + query).context["page"]
    assert {order.number for order in page} == {desk_orders[name].number for name in expected}


def test_desk_search_by_number(client, people, desk_orders):
    client.force_login(people["liaison"])
    number = desk_orders["closed"].number
    page = client.get(reverse("desk"), {"q": number.lower()}).context["page"]
    assert [order.number for order in page] == [number]


def test_desk_is_paginated(client, people):
    for _ in range(27):
        WorkOrderFactory()
    client.force_login(people["liaison"])
    first = client.get(reverse("desk")).context["page"]
    second = client.get(reverse("desk"), {"page": 2}).context["page"]
    assert (len(first), len(second), first.paginator.num_pages) == (25, 2, 2)


def test_notifications_count_open_and_read(client, people):
    order = order_in_state(Status.RECEIVED, people)
    from mediation.services import work_orders as services

    services.dispatch_work_order(order=order, actor=people["liaison"], department=people["head"].department)
    client.force_login(people["head"])
    assert client.get(reverse("notification_count")).json() == {"unread": 1}
    notification = Notification.objects.get(recipient=people["head"])
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == detail_url(order)
    assert client.get(reverse("notification_count")).json() == {"unread": 0}


def test_another_users_notification_cannot_be_opened(client, people):
    notify(recipients=[people["judge"]], kind="work_order.assigned", params={"number": "GD-1"}, url="/x/")
    notification = Notification.objects.get()
    client.force_login(people["head"])
    client.post(reverse("notification_open", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_chosen_language_is_remembered_on_the_account(client, liaison):
    client.force_login(liaison)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/desk/"})
    liaison.refresh_from_db()
    assert liaison.language == "zh-hans"
    other_device = type(client)()
    other_device.force_login(liaison)
    assert other_device.get(reverse("desk")).headers["Content-Language"] == "zh-hans"
