"""A party on a phone, in Chinese: reminded of tomorrow's session by SMS, she follows
the message's short link to her case, then turns SMS off for session notices on
"通知方式" and is reminded an hour before in the app only."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from mediation.models import Notification, SmsMessage, User
from mediation.services import sessions
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = "+8613800138088"


def remind_sessions() -> None:
    call_command("remind_sessions", stdout=io.StringIO())


def test_a_party_follows_the_reminder_sms_and_chooses_her_channels_on_a_phone(journey, sms_outbox):
    journey.language = "zh-hans"
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-sms")
    User.objects.filter(pk=world.defendant.pk).update(language="zh-hans", phone=PHONE, phone_verified_at=timezone.now())
    session = off_the_loop(
        sessions.schedule_session,
        case=world.case,
        actor=court.mediator,
        starts_at=timezone.now() + dt.timedelta(hours=20),
    )

    # The day-before reminder reaches her phone: the court, the case, a short link.
    off_the_loop(remind_sessions)
    [text] = [message for message in sms_outbox if message.to == PHONE]
    assert text.body.startswith("北京市石景山区人民法院") and world.case.number in text.body
    path = re.search(r"https?://[^/]+(/n/\d+/)$", text.body).group(1)

    defendant = journey.person("defendant", phone=True)
    defendant.sign_in(world.defendant)
    defendant.goto(path, "the reminder's link")
    assert defendant.page.url.endswith(f"/cases/{world.case.pk}/")
    assert Notification.objects.get(recipient=world.defendant, kind="session.starting").read_at is not None

    # She keeps session notices in the app and by email, not by SMS.
    defendant.page.locator(".user-menu summary").click()
    with defendant.page.expect_navigation():
        defendant.page.get_by_role("link", name=t("How you are notified")).click()
    defendant.check("how you are notified", full_page=True)
    assert "138****8088" in defendant.text()
    sms_box = defendant.page.locator("input[name='sessions-sms']")
    assert sms_box.is_checked()
    sms_box.uncheck()
    defendant.submit(defendant.page.get_by_role("button", name=t("Save my choices")), "choices saved")
    assert t("Your choices are saved.") in defendant.text()
    assert not defendant.page.locator("input[name='sessions-sms']").is_checked()
    assert defendant.page.locator("input[name='agreements-sms']").is_checked()

    # An hour before, she is reminded in the app only.
    sms_before = SmsMessage.objects.filter(to=PHONE).count()
    with time_machine.travel(session.starts_at - dt.timedelta(minutes=50), tick=False):
        off_the_loop(remind_sessions)
    assert Notification.objects.filter(recipient=world.defendant, kind="session.starting").count() == 2
    assert SmsMessage.objects.filter(to=PHONE).count() == sms_before
