"""Each person sees and changes their own channels per kind of notice (the page under
the account menu), and follows the short link an SMS carries to the notice."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mediation.models import Notification, NotificationPreference
from mediation.notifications import channels_for, notify
from mediation.services.notifications import set_notification_channels
from tests.cases import make_case

pytestmark = pytest.mark.django_db
PAGE = "/accounts/notifications/"


@pytest.fixture
def world(people):
    world = make_case(people["mediator"], people["judge"])
    world.plaintiff.phone = "+8613800138001"
    world.plaintiff.phone_verified_at = timezone.now()
    world.plaintiff.save(update_fields=["phone", "phone_verified_at"])
    return world


def checked(html: str, name: str) -> bool:
    start = html.index(f'name="{name}"')
    return " checked" in html[start : html.index(">", start)]


# Refusals first ---------------------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_sign_in_and_nothing_is_saved(client):
    assert reverse("notification_preferences") == PAGE
    page = client.get(PAGE)
    post = client.post(PAGE, {"sessions-email": "on"})
    assert page.status_code == post.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert not NotificationPreference.objects.exists()


def test_a_party_cannot_choose_for_staff_topics(client, world):
    client.force_login(world.plaintiff)

    client.post(PAGE, {"deadlines-sms": "on", "work_orders-email": "on", "sessions-sms": "on"})

    assert set(NotificationPreference.objects.values_list("topic", flat=True)) == {
        "cases",
        "sessions",
        "documents",
        "agreements",
        "judicial_confirmation",
    }
    with pytest.raises(ValidationError):
        set_notification_channels(user=world.plaintiff, choices={"deadlines": {"sms": True}})


def test_an_unknown_topic_is_refused_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as error:
        set_notification_channels(user=world.plaintiff, choices={"sessions": {"sms": False}, "gossip": {"sms": True}})
    assert "gossip" in " ".join(error.value.messages)
    assert not NotificationPreference.objects.exists()


def test_the_page_only_ever_changes_ones_own_choices(client, world):
    client.force_login(world.plaintiff)

    client.post(PAGE, {"user": world.defendant.pk, "user_id": world.defendant.pk})

    assert set(NotificationPreference.objects.values_list("user_id", flat=True)) == {world.plaintiff.pk}
    client.force_login(world.defendant)
    page = client.get(PAGE).content.decode()
    assert checked(page, "sessions-sms") and checked(page, "sessions-email")


# What each person sees ----------------------------------------------------------------------


def test_a_party_sees_the_party_kinds_with_sms_and_email_on_by_default(client, world):
    client.force_login(world.plaintiff)

    response = client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Mediation sessions", "Documents served", "Settlement agreements", "Mediation cases"):
        assert label in html
    assert "Deadline warnings" not in html and "Work orders and supervision" not in html
    assert checked(html, "sessions-sms") and checked(html, "sessions-email")
    assert checked(html, "agreements-sms") and checked(html, "documents-sms")
    # No SMS is sent for these kinds at all, so there is no SMS box for them.
    assert 'name="cases-sms"' not in html
    assert "138****8001" in html


def test_staff_see_the_staff_kinds_with_sms_off_by_default(client, world):
    client.force_login(world.judge)

    html = client.get(PAGE).content.decode()

    assert "Deadline warnings" in html and "Work orders and supervision" in html
    assert not checked(html, "deadlines-sms") and checked(html, "deadlines-email")
    assert "You have no verified mobile number" in html


def test_a_party_turns_sms_off_for_sessions_and_is_no_longer_texted(client, world):
    client.force_login(world.plaintiff)
    before = client.get(PAGE).content.decode()
    form = {
        f"{topic}-{channel}": "on"
        for topic in ("cases", "sessions", "documents", "agreements")
        for channel in ("sms", "email")
        if f'name="{topic}-{channel}"' in before
    }
    del form["sessions-sms"]

    response = client.post(PAGE, form, follow=True)

    html = response.content.decode()
    assert "Your choices are saved." in html
    assert not checked(html, "sessions-sms") and checked(html, "sessions-email")
    assert checked(html, "agreements-sms")
    assert channels_for(world.plaintiff, "session.starting") == {"in_app", "email"}
    assert channels_for(world.plaintiff, "agreement.sealed") == {"in_app", "sms", "email"}


def test_the_page_speaks_chinese(client, world):
    world.plaintiff.language = "zh-hans"
    world.plaintiff.save(update_fields=["language"])
    client.force_login(world.plaintiff)
    html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "通知方式" in html and "短信" in html


def test_the_account_menu_and_the_notifications_page_link_to_it(client, world):
    client.force_login(world.plaintiff)
    assert f'href="{PAGE}"' in client.get(reverse("notifications")).content.decode()


# The short link of an SMS -------------------------------------------------------------------


@pytest.fixture
def notice(world):
    return notify(
        recipients=[world.plaintiff],
        kind="session.starting",
        params={"number": world.case.number, "starts": "2026-12-08 14:30"},
        url=f"/cases/{world.case.pk}/",
    )[0]


def test_the_short_link_opens_the_notice_for_its_recipient_and_marks_it_read(client, world, notice):
    client.force_login(world.plaintiff)

    response = client.get(f"/n/{notice.pk}/")

    assert response.status_code == 302 and response["Location"] == f"/cases/{world.case.pk}/"
    assert Notification.objects.get(pk=notice.pk).read_at is not None


@pytest.mark.parametrize("who", ["defendant", "mediator", "judge"])
def test_the_short_link_finds_nothing_for_anyone_else(client, world, notice, who):
    client.force_login(getattr(world, who))

    assert client.get(f"/n/{notice.pk}/").status_code == 404
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_the_short_link_asks_a_signed_out_visitor_to_sign_in_first(client, notice):
    response = client.get(f"/n/{notice.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert f"next=/n/{notice.pk}/" in response["Location"]
    assert Notification.objects.get(pk=notice.pk).read_at is None
