"""A citizen on a phone, in Chinese, applies for mediation at /apply/ without anyone's
help: asks for a code, reads it in the text message, gives her ID number (a mistyped
one first, refused with what is wrong), and gets her order's number by SMS; she
tracks it with a new code; once the judge has referred it, her tracking page says it
is in mediation and names the case, which already has her as the plaintiff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F

from mediation.models import Party, PhoneCode, WorkOrder
from mediation.services import work_orders
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import label, make_court
from tests.workflows import refer

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = "+8613800138000"
ID_NUMBER = "11010519491231002X"


def ask_for_a_code_to_apply(journey, citizen) -> str:
    """On /apply/, her number typed and a code texted to it: the code she reads."""
    t = journey.t
    page = citizen.page
    citizen.goto("/apply/", "application form")
    assert page.locator("h1").inner_text() == t("Apply for mediation")
    # The code: the button waits a minute after sending it.
    page.get_by_label(label(t("Mobile number"))).fill("138 0013 8000")
    citizen.submit(page.locator("[data-send-code]"), "code sent")
    assert page.locator("[data-code-sent]").is_visible()
    assert page.locator("[data-send-code]").is_disabled()
    return journey.code_texted(PHONE)


def fill_in_the_application(journey, citizen, *, code: str, id_number: str) -> None:
    """Her neighbour owes her 20,000 yuan: the form filled in with the texted code."""
    t = journey.t
    page = citizen.page
    page.get_by_label(label(t("Code from the text message"))).fill(code)
    page.get_by_label(label(t("Your name"))).fill("王秀英")
    page.get_by_label(label(t("Resident ID number"))).fill(id_number)
    page.get_by_label(label(t("The other side's name"))).fill("李建国")
    page.get_by_label(label(t("The other side's mobile number"))).fill("139 0013 9000")
    page.get_by_label(label(t("What happened"))).fill("三月借给邻居两万元，至今未还。")
    page.get_by_label(label(t("What you ask for"))).fill("归还借款两万元。")
    page.get_by_label(label(t("Amount in yuan"))).fill("20000")
    page.locator("input[name=consent_online_mediation]").check()
    page.locator("input[name=consent_electronic_service]").check()


def order_received(journey, citizen) -> WorkOrder:
    """After applying: the page and the receipt texted to her name her order's number."""
    order = WorkOrder.objects.get()
    assert citizen.page.locator("[data-order-number]").inner_text() == order.number
    receipt = journey.texted(PHONE, "application_received")
    assert order.number in receipt and "工单号" in receipt
    return order


def track_her_request(journey, citizen, order: WorkOrder) -> None:
    """From the receipt page, "track my request" with a new code (a minute later): the
    order is received."""
    t = journey.t
    page = citizen.page
    PhoneCode.objects.update(created_at=F("created_at") - dt.timedelta(seconds=61))
    with page.expect_navigation():
        page.get_by_role("link", name=t("Track my request")).click()
    page.get_by_label(label(t("Mobile number"))).fill("138 0013 8000")
    citizen.submit(page.locator("[data-send-code]"), "tracking code sent")
    page.get_by_label(label(t("Code from the text message"))).fill(journey.code_texted(PHONE))
    citizen.submit(page.get_by_role("button", name=t("Show my requests")), "her requests")
    tracked = page.locator(f'[data-tracked-order="{order.number}"]')
    assert str(t("Received: the court will pass it to the people who handle it.")) in tracked.inner_text()


def referred(court, order: WorkOrder):
    """The liaison dispatches the order to the judge, who refers it to the mediator:
    the case has her as plaintiff with her number and ID number."""
    off_the_loop(
        work_orders.dispatch_work_order,
        order=order,
        actor=court.liaison,
        department=court.civil,
        assignee=court.judge,
    )
    case = off_the_loop(refer, WorkOrder.objects.get(pk=order.pk), court.judge, court.mediator)
    plaintiff = Party.objects.get(case=case, side="plaintiff")
    assert (plaintiff.name, str(plaintiff.phone), plaintiff.id_number) == ("王秀英", PHONE, ID_NUMBER)
    return case


def test_a_citizen_applies_on_her_phone_and_tracks_her_request(journey):
    journey.language = "zh-hans"
    t = journey.t
    journey.data += ["GD", "X"]
    court = off_the_loop(make_court)
    citizen = journey.person("citizen", phone=True)
    page = citizen.page
    code = ask_for_a_code_to_apply(journey, citizen)

    # A mistyped ID number is refused with what is wrong; nothing is recorded.
    fill_in_the_application(journey, citizen, code=code, id_number="110105194912310021")
    citizen.submit(page.locator("[data-apply]"), "id number refused")
    message = t(
        "The last character of the ID number does not match the others (its check digit is wrong): "
        "look for a mistyped digit."
    )
    assert message in page.locator(".field--invalid").inner_text()
    assert not WorkOrder.objects.exists()

    # Corrected, the same code goes through: the code was not used by the refusal.
    page.get_by_label(label(t("Resident ID number"))).fill(ID_NUMBER)
    page.get_by_label(label(t("Code from the text message"))).fill(code)
    citizen.submit(page.locator("[data-apply]"), "application received")
    order = order_received(journey, citizen)
    track_her_request(journey, citizen, order)

    # The judge refers it: her tracking page says so.
    case = referred(court, order)

    citizen.goto("/apply/track/", "in mediation")
    tracked = page.locator(f'[data-tracked-order="{order.number}"]')
    assert str(t("In mediation: a mediator will contact you.")) in tracked.inner_text()
    assert case.number in tracked.inner_text()
