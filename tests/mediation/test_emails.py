"""Mail goes out in the court's name: a named sender, the court's name in the subject,
a greeting, the notice with its link, and a signature with the court's contact, in
the recipient's language. Never "Hello from 127.0.0.1:18442!"."""

import pytest
from django.core import mail
from django.urls import reverse

from mediation.notifications import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COURT = "北京市石景山区人民法院"


@pytest.fixture(autouse=True)
def _court(settings):
    settings.COURT_NAME = COURT
    settings.COURT_CONTACT_PHONE = "010-68860000"
    settings.COURT_ADDRESS = "北京市石景山区示例路1号"
    settings.SITE_URL = "https://tiaojie.example.court"
    settings.DEFAULT_FROM_EMAIL = f"{COURT} <noreply@tiaojie.example.court>"
    settings.ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{COURT}] "


def assert_signed_by_the_court(message):
    assert message.from_email == f"{COURT} <noreply@tiaojie.example.court>"
    assert message.subject.startswith(f"[{COURT}]")
    assert COURT in message.body
    assert "010-68860000" in message.body
    assert "北京市石景山区示例路1号" in message.body


@pytest.mark.parametrize(
    ("language", "greeting", "foreign"),
    [("zh-hans", "您好", "Hello"), ("en", "Hello", "您好")],
)
def test_the_password_reset_mail_comes_from_the_court_in_the_accounts_language(client, language, greeting, foreign):
    UserFactory(email="wang.xiulan@example.test", language=language)

    # Asked from a browser in the other language: the mail follows the account.
    other = "en" if language == "zh-hans" else "zh-CN"
    response = client.post(
        reverse("account_reset_password"), {"email": "wang.xiulan@example.test"}, HTTP_ACCEPT_LANGUAGE=other
    )

    assert response.status_code == 302
    [message] = mail.outbox
    assert_signed_by_the_court(message)
    assert message.body.startswith(greeting) and foreign not in message.body
    # The host the request came to is only in the reset link, never as the sender.
    assert "Hello from" not in message.body and "的 Hello" not in message.body
    without_link = "\n".join(line for line in message.body.splitlines() if "/accounts/password/reset/key/" not in line)
    assert "testserver" not in without_link
    assert "https://tiaojie.example.court" not in message.subject


@pytest.mark.parametrize(
    ("language", "greeting", "notice"),
    [
        ("zh-hans", "王秀兰，您好：", "调解案件(2026)京0107民诉前调1号已分配给您。"),
        ("en", "Dear 王秀兰,", "Mediation case (2026)京0107民诉前调1号 was assigned to you."),
    ],
)
def test_a_notification_mail_greets_links_and_signs_in_the_recipients_language(
    django_capture_on_commit_callbacks, language, greeting, notice
):
    reader = UserFactory(full_name="王秀兰", email="wang.xiulan@example.test", language=language)

    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[reader],
            kind="case.assigned",
            params={"number": "(2026)京0107民诉前调1号"},
            url="/cases/7/",
        )

    [message] = mail.outbox
    assert_signed_by_the_court(message)
    assert message.body.startswith(greeting)
    assert notice in message.body
    assert "https://tiaojie.example.court/cases/7/" in message.body


def test_by_default_mail_is_sent_in_the_courts_name():
    from config.settings import base

    assert base.DEFAULT_FROM_EMAIL.startswith(base.COURT_NAME + " <noreply@")
    assert f"[{base.COURT_NAME}] " == base.ACCOUNT_EMAIL_SUBJECT_PREFIX
    assert base.COURT_CONTACT_PHONE and base.COURT_ADDRESS


def test_an_invitation_mail_names_the_court_and_signs_with_its_contact(people, django_capture_on_commit_callbacks):
    from mediation.services import cases, invitations

    case = cases.open_mediation_case(actor=people["mediator"], cause_of_action="合同纠纷")
    party = cases.add_party(case=case, actor=people["mediator"], side="defendant", kind="person", name="王秀兰")

    with django_capture_on_commit_callbacks(execute=True):
        invitations.invite_participant(
            case=case,
            actor=people["mediator"],
            party=party,
            role="party",
            full_name="王秀兰",
            phone="13800138000",
            email="w@example.test",
        )

    [message] = mail.outbox
    assert_signed_by_the_court(message)
    assert case.number in message.subject
