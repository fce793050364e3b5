"""One place notifies (mediation.notifications.notify) and chooses each person's
channels per kind: in-app always; SMS for a kind that has a template, to a verified
mobile number, by default for parties and only on opt-in for staff; email to a real
address that wants it. Each SMS notice goes once, to the people the notice is for,
and never carries a side-only fact."""

import datetime as dt
import io
import re
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation
from pypdf import PdfWriter

from documents.models import Document
from documents.services import serving
from documents.services.uploads import upload_document
from mediation.models import Notification, NotificationPreference, RoomKind, SmsMessage, WorkOrder
from mediation.notifications import KIND_SMS_TEMPLATES, channels_for, notify
from mediation.services import sessions, supervision
from mediation.services.notifications import set_notification_channels
from mediation.sms.templates import render as render_sms
from tests.cases import make_case
from tests.factories import UserFactory
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

PLAINTIFF_PHONE = "+8613800138001"
DEFENDANT_PHONE = "+8613800138002"
MEDIATOR_PHONE = "+8613800138003"
JUDGE_PHONE = "+8613900139004"


def verify_phone(user, phone):
    user.phone = phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def texts_to(user) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(to=str(user.phone)).order_by("id")) if user.phone else []


def templates_to(user) -> list[str]:
    return [message.template for message in texts_to(user)]


def remind(now=None) -> str:
    out = io.StringIO()
    with time_machine.travel(now or timezone.now(), tick=False):
        call_command("remind_sessions", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def world(people):
    world = make_case(people["mediator"], people["judge"])
    verify_phone(world.plaintiff, PLAINTIFF_PHONE)
    verify_phone(world.defendant, DEFENDANT_PHONE)
    verify_phone(world.mediator, MEDIATOR_PHONE)
    verify_phone(world.judge, JUDGE_PHONE)
    SmsMessage.objects.all().delete()
    mail.outbox.clear()
    return world


def schedule(world, hours_ahead=0.5, room_kind=RoomKind.JOINT):
    return sessions.schedule_session(
        case=world.case,
        actor=world.mediator,
        starts_at=timezone.now() + dt.timedelta(hours=hours_ahead),
        room_kind=room_kind,
    )


# Refusals: who gets no SMS ---------------------------------------------------------------


def test_a_party_without_a_verified_phone_gets_no_sms(world):
    world.plaintiff.phone_verified_at = None
    world.plaintiff.save(update_fields=["phone_verified_at"])
    world.defendant.phone = None
    world.defendant.phone_verified_at = None
    world.defendant.save(update_fields=["phone", "phone_verified_at"])
    schedule(world)

    remind()

    assert not SmsMessage.objects.filter(to__in=[PLAINTIFF_PHONE, DEFENDANT_PHONE]).exists()
    # The notice itself still reaches them in the app.
    assert Notification.objects.filter(kind="session.starting", recipient=world.plaintiff).count() == 1
    assert Notification.objects.filter(kind="session.starting", recipient=world.defendant).count() == 1


def test_staff_who_did_not_opt_in_get_no_sms(world):
    schedule(world)

    remind()

    assert templates_to(world.mediator) == []
    assert templates_to(world.judge) == []
    assert templates_to(world.plaintiff) == ["notice_session_reminder"]


def test_a_party_who_turned_sms_off_gets_none_but_still_the_notice_and_the_mail(world):
    set_notification_channels(user=world.plaintiff, choices={"sessions": {"sms": False, "email": True}})
    schedule(world)

    with transaction.atomic():
        remind()

    assert templates_to(world.plaintiff) == []
    assert templates_to(world.defendant) == ["notice_session_reminder"]
    assert Notification.objects.filter(kind="session.starting", recipient=world.plaintiff).count() == 1


def test_a_kind_without_an_sms_template_is_never_texted(world):
    schedule(world)  # "session.scheduled": in the app and by mail only
    assert Notification.objects.filter(kind="session.scheduled", recipient=world.plaintiff).exists()
    assert not SmsMessage.objects.exists()


def test_a_rolled_back_action_texts_and_mails_nobody(world, django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        notify(recipients=[world.plaintiff], kind="session.starting", params={"number": "x", "starts": "y"})
        raise RuntimeError("the action failed")

    assert not SmsMessage.objects.exists()
    assert sms_outbox == [] and mail.outbox == []
    assert not Notification.objects.filter(kind="session.starting").exists()


def test_email_goes_only_to_a_real_address_that_wants_it(world, django_capture_on_commit_callbacks):
    world.defendant.email = "13800138002@phone.invalid"
    world.defendant.save(update_fields=["email"])
    set_notification_channels(user=world.judge, choices={"sessions": {"email": False}})
    schedule(world)

    with django_capture_on_commit_callbacks(execute=True):
        remind()

    mailed = sorted(address for message in mail.outbox for address in message.to)
    assert mailed == sorted([world.mediator.email, world.plaintiff.email])


# The rule, person by person ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "verified", "saved", "expected"),
    [
        ("party", True, None, {"in_app", "sms", "email"}),
        ("party", False, None, {"in_app", "email"}),
        ("party", True, {"sms": False, "email": False}, {"in_app"}),
        ("staff", True, None, {"in_app", "email"}),
        ("staff", True, {"sms": True, "email": True}, {"in_app", "sms", "email"}),
        ("staff", False, {"sms": True, "email": True}, {"in_app", "email"}),
    ],
)
def test_channels_per_person_and_kind(world, who, verified, saved, expected):
    person = world.plaintiff if who == "party" else world.mediator
    if not verified:
        person.phone_verified_at = None
        person.save(update_fields=["phone_verified_at"])
    if saved is not None:
        set_notification_channels(user=person, choices={"sessions": saved})

    assert channels_for(person, "session.starting") == expected
    # The same person's choice for sessions does not touch another kind's topic.
    assert "sms" not in channels_for(person, "session.scheduled")
    assert channels_for(person, "session.starting", email=False) == expected - {"email"}


# What an SMS says, once, to whom ------------------------------------------------------------


def test_the_reminder_sms_names_the_court_and_links_to_the_notice_in_the_readers_language(
    world, settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://tiaojie.example.cn"
    world.defendant.language = "en"
    world.defendant.save(update_fields=["language"])
    schedule(world)

    with django_capture_on_commit_callbacks(execute=True):
        remind()

    [to_plaintiff] = texts_to(world.plaintiff)
    notice = Notification.objects.get(kind="session.starting", recipient=world.plaintiff)
    link = f"https://tiaojie.example.cn/n/{notice.pk}/"
    assert to_plaintiff.language == "zh-hans"
    assert to_plaintiff.body.startswith(settings.COURT_NAME)
    assert world.case.number in to_plaintiff.body and "调解" in to_plaintiff.body
    assert to_plaintiff.body.endswith(link)
    assert set(to_plaintiff.params) == {"court", "number", "starts", "link"}
    [to_defendant] = texts_to(world.defendant)
    assert to_defendant.language == "en" and "mediation session" in to_defendant.body
    # Sent after commit, one each.
    assert sorted(message.to for message in sms_outbox) == sorted([PLAINTIFF_PHONE, DEFENDANT_PHONE])


def test_reminders_at_a_day_and_an_hour_are_texted_once_each_however_often_the_command_runs(world):
    now = timezone.now()
    schedule(world, hours_ahead=30)

    for minutes_later in (0, 6 * 60 + 10, 6 * 60 + 11, 6 * 60 + 30, 29 * 60 + 10, 29 * 60 + 11, 29 * 60 + 40):
        remind(now + dt.timedelta(minutes=minutes_later))

    assert templates_to(world.plaintiff) == ["notice_session_reminder"] * 2
    assert templates_to(world.defendant) == ["notice_session_reminder"] * 2
    assert templates_to(world.mediator) == []


def test_a_caucus_reminder_is_texted_to_that_side_only(world):
    schedule(world, room_kind=RoomKind.CAUCUS_DEFENDANT)

    remind()

    assert templates_to(world.defendant) == ["notice_session_reminder"]
    assert templates_to(world.plaintiff) == []
    assert SmsMessage.objects.count() == 1


def test_a_staff_member_who_opted_in_is_texted_the_reminder(world):
    set_notification_channels(user=world.mediator, choices={"sessions": {"sms": True, "email": True}})
    schedule(world)

    remind()

    assert templates_to(world.mediator) == ["notice_session_reminder"]
    assert templates_to(world.judge) == []


def pdf_file(text: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_side_only_document_served_is_texted_to_its_recipient_only_and_without_its_title(world):
    secret_title = "Defendant's bottom line 7654 yuan"
    secret = upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("secret"),
        filename="bottom-line.pdf",
        title=secret_title,
        kind=Document.Kind.EVIDENCE,
        visibility=Document.Visibility.DEFENDANT,
    )
    serving.record_consent(case=world.case, user=world.defendant)

    serving.serve_electronically(case=world.case, actor=world.mediator, recipient=world.defendant, documents=[secret])

    [text] = texts_to(world.defendant)
    assert text.template == "notice_document_served"
    assert world.case.number in text.body
    assert secret_title not in text.body and "7654" not in text.body
    assert set(text.params) == {"court", "number", "link"}
    assert SmsMessage.objects.count() == 1


# Deadline warnings: staff who opt in ----------------------------------------------------------


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def running_order(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(WorkOrder.Status.IN_PROGRESS, people, received_at=at(2026, 11, 2, 9, 0))
    verify_phone(people["judge"], JUDGE_PHONE)
    SmsMessage.objects.all().delete()
    return order


def check(moment):
    with time_machine.travel(moment, tick=False):
        return supervision.check_deadlines()


def test_a_deadline_warning_is_not_texted_to_staff_who_did_not_opt_in(running_order, people):
    report = check(at(2026, 11, 3, 3, 0))

    assert report.warnings == 1
    assert Notification.objects.filter(recipient=people["judge"], kind="deadline.first_contact.warning").exists()
    assert not SmsMessage.objects.exists()


def test_a_deadline_warning_is_texted_once_to_staff_who_opted_in(running_order, people):
    set_notification_channels(user=people["judge"], choices={"deadlines": {"sms": True, "email": True}})

    check(at(2026, 11, 3, 3, 0))
    check(at(2026, 11, 3, 3, 5))

    [text] = texts_to(people["judge"])
    assert text.template == "notice_deadline_contact"
    assert running_order.number in text.body
    assert set(text.params) == {"court", "number", "due", "link"}


# Short enough for one message ------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(set(KIND_SMS_TEMPLATES.values())))
def test_each_notice_text_fits_one_chinese_message_besides_its_link(template, settings):
    values = {
        "court": settings.COURT_NAME,
        "number": "(2026)京0107民诉前调1234号" if "deadline" not in template else "GD-2026-000123",
        "starts": "2026-12-08 14:30",
        "due": "2026-12-08 14:30",
        "days": "7",
        "link": "",
    }
    with translation.override("zh-hans"):
        body = render_sms(template, values)
    assert re.search("[\u4e00-\u9fff]", body.replace(settings.COURT_NAME, "").replace(values["number"], ""))
    assert len(body) <= 70, body


def test_preferences_of_one_person_never_change_anothers(world):
    set_notification_channels(user=world.plaintiff, choices={"sessions": {"sms": False, "email": False}})
    assert list(NotificationPreference.objects.values_list("user_id", flat=True)) == [world.plaintiff.pk]
    assert "sms" in channels_for(world.defendant, "session.starting")


def test_a_new_party_account_gets_sms_and_email_by_default():
    party = verify_phone(UserFactory(), "+8613700137000")
    assert channels_for(party, "agreement.sealed") == {"in_app", "sms", "email"}
