"""Invitations, through the pages a mediator and an invited person use: an invitation
names a mobile number and is texted there; the link is shown once and only its hash
is kept; the link alone lets nobody in: accepting needs a code texted to that number
and, for a natural person whose ID number the court recorded, that ID number. Every
misuse gets a clear answer and attaches nobody. The refusals come first."""

import datetime as dt
import hashlib
import html
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mediation.models import (
    CaseEvent,
    IdentityLevel,
    Invitation,
    MediationCase,
    Notification,
    Participant,
    PhoneCode,
    User,
)
from mediation.services import cases
from mediation.services.invitations import MAX_WRONG_ID_NUMBERS, invite_participant, revoke_invitation
from mediation.sms import deliver
from mediation.verification_codes import send_code
from tests.cases import make_case
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

INVITED_PHONE = "+8613812345678"
OTHER_PHONE = "+8613987654321"
ID_NUMBER = "11010519491231002X"
OTHER_ID_NUMBER = "110105194912310038"


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def plaintiff_party(world):
    return world.case.parties.get(side="plaintiff")


@pytest.fixture
def defendant_party(world):
    return world.case.parties.get(side="defendant")


@pytest.fixture
def sun_guilan(world):
    """A natural person as third defendant, with her ID number and phone on record."""
    return cases.add_party(
        case=world.case,
        actor=world.mediator,
        side="defendant",
        kind="person",
        name="孙桂兰",
        id_number=ID_NUMBER,
        phone="139 0000 1111",
    )


def shown_link(response) -> str:
    """The invitation link on the case page the mediator sees right after inviting."""
    match = re.search(r'<input[^>]*value="([^"]+)"[^>]*data-invitation-link', response.content.decode())
    assert match, "no invitation link on the page"
    return html.unescape(match.group(1))


def token_of(link: str) -> str:
    match = re.search(r"/invite/([^/]+)/$", link)
    assert match, link
    return match.group(1)


def invite(client, world, party, *, phone=INVITED_PHONE, email="", role="agent", full_name="Wang Lawyer"):
    """The mediator invites through the case page; returns the raw token shown once."""
    client.force_login(world.mediator)
    data = {
        "invite-party": party.pk,
        "invite-role": role,
        "invite-full_name": full_name,
        "invite-phone": phone,
        "invite-email": email,
    }
    response = client.post(reverse("case_action", args=[world.case.pk, "invite"]), data)
    assert response.status_code == 200, response.content
    client.logout()
    return token_of(shown_link(response))


def invitation_path(token: str) -> str:
    return reverse("invitation", args=[token])


def texted(sms_outbox, to=INVITED_PHONE) -> list:
    """The messages sent to `to` so far (queued ones handed to the test transport)."""
    deliver()
    return [message for message in sms_outbox if message.to == to]


def ask_for_code(client, token, sms_outbox, to=INVITED_PHONE) -> str:
    """Press "Text a code" on the invitation page; the code the SMS brings."""
    response = client.post(invitation_path(token), {"action": "send_code"})
    assert response.status_code == 302 and response["Location"] == invitation_path(token)
    message = texted(sms_outbox, to)[-1]
    assert message.template == "verification_code"
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)


def accept(client, token, code, **extra):
    return client.post(invitation_path(token), {"action": "accept", "code": code, **extra})


def other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def problem_code(response) -> str | None:
    match = re.search(r'data-invitation-problem="([^"]*)"', response.content.decode())
    return match.group(1) if match else None


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def nothing_joined(world, before: tuple) -> bool:
    return (Participant.objects.count(), User.objects.count()) == before


def counts():
    return (Participant.objects.count(), User.objects.count())


# Inviting: refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("", "Give the invited person's mobile number"),
        ("12345", "is not a valid phone number"),
        ("010 6512 3456", "is not a mobile number"),
    ],
)
def test_an_invitation_needs_a_mobile_number(client, world, plaintiff_party, sms_outbox, phone, message):
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": plaintiff_party.pk, "invite-role": "agent", "invite-full_name": "Wang", "invite-phone": phone},
    )
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Invitation.objects.exists()
    assert texted(sms_outbox, to=None) == [] and sms_outbox == []


def test_an_agent_must_be_named(client, world, plaintiff_party):
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": plaintiff_party.pk, "invite-role": "agent", "invite-phone": INVITED_PHONE},
    )
    assert response.status_code == 400
    assert "Give the name of the person you invite" in html.unescape(response.content.decode())
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant"])
def test_only_the_mediator_may_invite(client, world, plaintiff_party, who, sms_outbox):
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": plaintiff_party.pk, "invite-role": "agent", "invite-phone": INVITED_PHONE},
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert texted(sms_outbox) == []


def test_an_invitation_for_another_cases_party_is_refused(client, world, people):
    other = make_case(people["mediator"], None, label="B")
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {
            "invite-party": other.case.parties.first().pk,
            "invite-role": "agent",
            "invite-full_name": "Wang",
            "invite-phone": INVITED_PHONE,
        },
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


# Inviting ---------------------------------------------------------------------------------------------


def test_the_invitation_is_texted_to_the_number_and_the_link_shown_once_as_a_fallback(
    client, world, plaintiff_party, sms_outbox
):
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {
            "invite-party": plaintiff_party.pk,
            "invite-role": "agent",
            "invite-full_name": "Wang Lawyer",
            "invite-phone": "138 1234 5678",
        },
    )

    assert response.status_code == 200
    page = re.sub(r"\s+", " ", html.unescape(response.content.decode()))
    assert "The invitation was texted to 138 1234 5678." in page
    link = shown_link(response)
    token = token_of(link)
    assert link == f"http://127.0.0.1:8000/invite/{token}/"
    # The SMS: the court, the case, the side, the link.
    [message] = texted(sms_outbox)
    assert message.template == "invitation"
    assert settings.COURT_NAME in message.body
    assert world.case.number in message.body
    assert link in message.body
    assert message.params["side"] == "原告"  # in the court's language (SMS_DEFAULT_LANGUAGE)
    # Stored in E.164; only the token's hash, nowhere the token itself.
    invitation = Invitation.objects.get()
    assert str(invitation.phone) == INVITED_PHONE
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(Invitation.objects.values()))
    assert token not in str(list(CaseEvent.objects.values()))
    assert invitation.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)
    # The link is shown once: the case page never shows it again, only the number.
    again = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert token not in again and "data-invitation-link" not in again
    assert "open until" in again and "138 1234 5678" in again


def test_the_party_in_person_is_invited_at_the_partys_number_and_in_its_name(client, world, sun_guilan, sms_outbox):
    invite(client, world, sun_guilan, phone="", role="party", full_name="")

    invitation = Invitation.objects.get()
    assert (str(invitation.phone), invitation.full_name) == ("+8613900001111", "孙桂兰")
    assert [message.template for message in texted(sms_outbox, "+8613900001111")] == ["invitation"]


def test_an_address_given_also_gets_the_link_by_email(
    client, world, plaintiff_party, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    client.force_login(world.mediator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("case_action", args=[world.case.pk, "invite"]),
            {
                "invite-party": plaintiff_party.pk,
                "invite-role": "agent",
                "invite-full_name": "Wang Lawyer",
                "invite-phone": INVITED_PHONE,
                "invite-email": "Wang.Lawyer@Example.test",
            },
        )
    link = shown_link(response)
    assert "The link was also emailed to wang.lawyer@example.test." in response.content.decode()

    [message] = mail.outbox
    assert message.to == ["wang.lawyer@example.test"]
    assert link in message.body
    assert "138****5678" in message.body
    assert f"for the Plaintiff, {plaintiff_party.name}" in message.body


def test_an_account_with_the_verified_number_hears_of_the_invitation_in_the_app(client, world, plaintiff_party):
    owner = UserFactory(phone=INVITED_PHONE, phone_verified_at=timezone.now())
    claimant = UserFactory(phone=OTHER_PHONE)

    invite(client, world, plaintiff_party)
    invite(client, world, plaintiff_party, phone=OTHER_PHONE)

    assert Notification.objects.filter(recipient=owner, kind="case.invited").exists()
    # A number never confirmed by a code proves nothing.
    assert not Notification.objects.filter(recipient=claimant).exists()


# Following the link: the link alone lets nobody in ----------------------------------------------------------


def test_the_page_asks_for_a_code_texted_to_the_masked_number(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)

    response = client.get(invitation_path(token))

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert world.case.number in page and plaintiff_party.name in page and "Agent (lawyer)" in page
    assert "138****5678" in page
    assert "13812345678" not in page and "138 1234 5678" not in page
    assert 'name="code"' in page
    # An agent has an ID number of their own: the party's is not asked.
    assert 'name="id_number"' not in page
    assert problem_code(response) is None


def test_the_link_alone_lets_nobody_in(client, world, plaintiff_party, people):
    token = invite(client, world, plaintiff_party)
    before = counts()
    signed_in = Client()
    signed_in.force_login(people["nobody"])

    for person in (client, signed_in):
        without_code = accept(person, token, "")
        made_up = accept(person, token, "123456")

        assert without_code.status_code == 400
        assert "This field is required." in field_errors(without_code, "code")
        assert made_up.status_code == 400
        assert "Ask for a code first" in field_errors(made_up, "code")
    assert nothing_joined(world, before)
    assert Invitation.objects.get().state() == "open"


def test_sign_up_stays_closed_after_following_the_link(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))
    users = User.objects.count()

    form = client.get(reverse("account_signup"))
    posted = client.post(
        reverse("account_signup"),
        {"email": "walk.in@example.test", "password1": "Quiet-river-2026", "password2": "Quiet-river-2026"},
    )

    for response in (form, posted):
        assert "account/signup_closed.html" in [template.name for template in response.templates]
    assert User.objects.count() == users


def test_a_wrong_code_is_refused_counted_and_attaches_nobody(client, world, plaintiff_party, sms_outbox):
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)
    before = counts()

    response = accept(client, token, other_code(code))

    assert response.status_code == 400
    assert "The code is not right. You can try 4 more times." in field_errors(response, "code")
    assert PhoneCode.objects.get(purpose="invitation").failed_attempts == 1
    assert nothing_joined(world, before)
    assert accept(client, token, code).status_code == 302


def test_the_sixth_try_of_a_code_is_refused_even_when_right(client, world, plaintiff_party, sms_outbox):
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)
    for _ in range(5):
        assert accept(client, token, other_code(code)).status_code == 400
    before = counts()

    response = accept(client, token, code)

    assert response.status_code == 429
    assert "tried too many times" in field_errors(response, "code")
    assert nothing_joined(world, before)
    assert Invitation.objects.get().state() == "open"


def test_an_expired_code_is_refused(client, world, plaintiff_party, sms_outbox):
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)
    before = counts()

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5, seconds=1)):
        response = accept(client, token, code)

    assert response.status_code == 400
    assert "This code has expired" in field_errors(response, "code")
    assert nothing_joined(world, before)


def test_a_used_code_cannot_accept_a_second_invitation(client, world, plaintiff_party, defendant_party, sms_outbox):
    first = invite(client, world, plaintiff_party)
    second = invite(client, world, plaintiff_party, full_name="Wang Lawyer")
    code = ask_for_code(client, first, sms_outbox)
    assert accept(client, first, code).status_code == 302
    client.logout()
    before = counts()

    response = accept(client, second, code)

    assert response.status_code == 400
    assert "already used" in field_errors(response, "code")
    assert nothing_joined(world, before)
    assert Invitation.objects.get(accepted_at__isnull=True).state() == "open"


def test_a_code_texted_to_another_number_does_not_accept(client, world, plaintiff_party, defendant_party, sms_outbox):
    mine = invite(client, world, plaintiff_party)
    theirs = invite(client, world, defendant_party, phone=OTHER_PHONE, full_name="Zhao")
    # Someone invited at another number, or asking a sign-in code for this one.
    code_of_other_number = ask_for_code(client, theirs, sms_outbox, to=OTHER_PHONE)
    before = counts()

    response = accept(client, mine, code_of_other_number)

    assert response.status_code == 400
    assert "Ask for a code first" in field_errors(response, "code")
    record = send_code(INVITED_PHONE, "login")
    deliver()
    login_code = re.search(r"(?<!\d)(\d{6})(?!\d)", texted(sms_outbox)[-1].body).group(1)
    assert record.purpose == "login"
    refused = accept(client, mine, login_code)
    assert refused.status_code == 400
    assert nothing_joined(world, before)
    assert Invitation.objects.get(phone=INVITED_PHONE).state() == "open"


def test_the_code_goes_only_to_the_invited_number_and_no_sooner_than_a_minute_apart(
    client, world, plaintiff_party, sms_outbox
):
    token = invite(client, world, plaintiff_party)
    # A visitor cannot choose where the code goes.
    client.post(invitation_path(token), {"action": "send_code", "phone": OTHER_PHONE})
    again = client.post(invitation_path(token), {"action": "send_code"}, follow=True)

    assert [m.template for m in texted(sms_outbox)] == ["invitation", "verification_code"]
    assert texted(sms_outbox, OTHER_PHONE) == []
    assert "less than a minute ago" in again.content.decode()


# Misuse of the link -----------------------------------------------------------------------------------------


def expire(token, world):
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    return token


def revoke(token, world):
    revoke_invitation(invitation=Invitation.objects.get(), actor=world.mediator)
    return token


def tamper(token, world):
    position = len(token) // 2
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def close_case(token, world):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="The plaintiff withdrew.")
    return token


def use_up(token, world):
    Invitation.objects.update(accepted_at=timezone.now(), accepted_by=world.plaintiff)
    return token


MISUSES = [
    (expire, 410, "expired"),
    (revoke, 410, "revoked"),
    (tamper, 404, "unknown"),
    (close_case, 410, "case_closed"),
    (use_up, 410, "accepted"),
]


@pytest.mark.parametrize(("spoil", "status", "code"), MISUSES, ids=[code for _, _, code in MISUSES])
def test_a_spoilt_link_gets_a_clear_page_and_attaches_nobody_even_with_the_right_code(
    client, world, plaintiff_party, sms_outbox, spoil, status, code
):
    token = invite(client, world, plaintiff_party)
    right_code = ask_for_code(client, token, sms_outbox)
    token = spoil(token, world)
    before = counts()

    page = client.get(invitation_path(token))
    posted = accept(client, token, right_code)
    asked = client.post(invitation_path(token), {"action": "send_code"})

    for response in (page, posted, asked):
        assert response.status_code == status
        assert problem_code(response) == code
        assert "Nobody was added to the case." in response.content.decode()
    assert nothing_joined(world, before)
    assert len(texted(sms_outbox)) == 2


def test_an_invitation_expiring_while_the_page_is_open_admits_nobody(client, world, plaintiff_party, sms_outbox):
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)

    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        response = accept(client, token, code)

    assert (response.status_code, problem_code(response)) == (410, "expired")
    assert Invitation.objects.get().accepted_at is None


def test_an_invitation_without_a_number_cannot_be_accepted(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    # Made before invitations named a number.
    Invitation.objects.update(phone="")

    response = client.get(invitation_path(token))

    assert (response.status_code, problem_code(response)) == (410, "no_phone")


def test_a_court_staff_account_cannot_accept(client, world, plaintiff_party, people, sms_outbox):
    token = invite(client, world, plaintiff_party)
    for who in ("head", "liaison", "dept_liaison", "other_judge"):
        client.force_login(people[who])

        page = client.get(invitation_path(token))
        posted = accept(client, token, "123456")

        for response in (page, posted):
            assert (response.status_code, problem_code(response)) == (403, "court_staff"), who
        assert not Participant.objects.filter(user=people[who]).exists()
    assert Invitation.objects.get().state() == "open"


def test_the_number_of_a_court_staff_account_signs_nobody_in(client, world, plaintiff_party, people, sms_outbox):
    head = people["head"]
    head.phone, head.phone_verified_at = INVITED_PHONE, timezone.now()
    head.save(update_fields=["phone", "phone_verified_at"])
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert (response.status_code, problem_code(response)) == (403, "court_staff")
    assert "_auth_user_id" not in client.session
    assert not Participant.objects.filter(user=head).exists()


def test_a_code_does_not_sign_in_an_account_protected_by_a_second_factor(client, world, plaintiff_party, sms_outbox):
    from allauth.mfa.models import Authenticator

    owner = UserFactory(phone=INVITED_PHONE, phone_verified_at=timezone.now())
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    token = invite(client, world, plaintiff_party)
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert (response.status_code, problem_code(response)) == (403, "second_factor")
    assert "_auth_user_id" not in client.session
    # Signed in with password and authenticator, the owner joins with the code.
    client.force_login(owner)
    assert accept(client, token, code).status_code == 302
    assert Participant.active.filter(user=owner, party=plaintiff_party).exists()


def test_a_person_cannot_join_both_sides_of_a_case(client, world, defendant_party, sms_outbox):
    world.plaintiff.phone, world.plaintiff.phone_verified_at = INVITED_PHONE, timezone.now()
    world.plaintiff.save(update_fields=["phone", "phone_verified_at"])
    token = invite(client, world, defendant_party, full_name="Zhao")
    code = ask_for_code(client, token, sms_outbox)
    before = (Participant.objects.count(), CaseEvent.objects.count())

    response = accept(client, token, code)

    assert (response.status_code, problem_code(response)) == (409, "other_side")
    assert (Participant.objects.count(), CaseEvent.objects.count()) == before
    assert Invitation.objects.get().state() == "open"


# The party's ID number -------------------------------------------------------------------------------------


def test_the_party_in_person_must_give_the_recorded_id_number(client, world, sun_guilan, sms_outbox):
    client.force_login(world.mediator)
    panel = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": sun_guilan.pk, "invite-role": "party"},
    )
    assert "Accepting it also needs the ID number on record for the party." in panel.content.decode()
    client.logout()
    token = token_of(shown_link(panel))
    assert 'name="id_number"' in client.get(invitation_path(token)).content.decode()
    code = ask_for_code(client, token, sms_outbox, to="+8613900001111")
    before = counts()

    missing = accept(client, token, code)
    malformed = accept(client, token, code, id_number="110105194912310021")
    wrong = accept(client, token, code, id_number=OTHER_ID_NUMBER)

    assert missing.status_code == 400 and "This field is required." in field_errors(missing, "id_number")
    assert malformed.status_code == 400 and "check digit is wrong" in field_errors(malformed, "id_number")
    assert wrong.status_code == 400
    assert "This is not the ID number the court recorded. You can try 4 more times." in field_errors(wrong, "id_number")
    # Only a well-formed wrong number counts; the code is not spent by it.
    assert Invitation.objects.get().wrong_id_numbers == 1
    assert nothing_joined(world, before)

    joined = accept(client, token, code, id_number=ID_NUMBER.lower())

    assert joined.status_code == 302
    person = Participant.active.get(party=sun_guilan).user
    assert (person.full_name, person.id_number, str(person.phone)) == ("孙桂兰", ID_NUMBER, "+8613900001111")


def test_guessing_the_id_number_kills_the_invitation(client, world, sun_guilan, sms_outbox):
    token = invite(client, world, sun_guilan, phone="", role="party", full_name="")
    code = ask_for_code(client, token, sms_outbox, to="+8613900001111")
    guesses = ["110105194912310038", "110105194912310046", "110105194912310054", "110105194912310062"]
    guesses += ["110105194912310070"]
    assert len(guesses) == MAX_WRONG_ID_NUMBERS
    for guess in guesses:
        last = accept(client, token, code, id_number=guess)
        assert last.status_code == 400
    assert "no more tries are left" in field_errors(last, "id_number")
    before = counts()

    # Even the right number, with a fresh code, now opens nothing.
    response = accept(client, token, code, id_number=ID_NUMBER)

    assert (response.status_code, problem_code(response)) == (410, "locked")
    assert nothing_joined(world, before)
    assert client.get(invitation_path(token)).status_code == 410
    # The mediator sees why, and may invite again.
    client.force_login(world.mediator)
    case_page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "dead: too many wrong ID numbers" in case_page


def test_an_agent_for_a_natural_person_is_not_asked_the_partys_id_number(client, world, sun_guilan, sms_outbox):
    token = invite(client, world, sun_guilan, role="agent", full_name="Lawyer Qian")
    code = ask_for_code(client, token, sms_outbox)

    assert accept(client, token, code).status_code == 302
    assert Participant.active.get(party=sun_guilan).user.id_number == ""


# Accepting -----------------------------------------------------------------------------------------------


def test_the_right_code_makes_an_account_with_the_verified_number_and_joins(
    client, world, plaintiff_party, people, sms_outbox
):
    other = make_case(people["mediator"], None, label="B")
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))
    asked = client.post(invitation_path(token), {"action": "send_code"}, follow=True)
    assert "A code was texted to 138****5678." in asked.content.decode()
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", texted(sms_outbox)[-1].body).group(1)
    users = User.objects.count()

    response = accept(client, token, code)

    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[world.case.pk])
    assert User.objects.count() == users + 1
    person = User.objects.get(phone=INVITED_PHONE)
    assert person.full_name == "Wang Lawyer"
    assert person.identity_level == IdentityLevel.MOBILE
    assert person.phone_verified_at is not None
    assert not person.has_usable_password()
    participant = Participant.active.get(user=person)
    assert (participant.case, participant.party, participant.role) == (world.case, plaintiff_party, "agent")
    assert (Invitation.objects.get().state(), Invitation.objects.get().accepted_by) == ("accepted", person)
    assert CaseEvent.objects.filter(case=world.case, action="join", actor=person).count() == 1
    # Signed in, the person sees their case and only theirs.
    assert client.get(reverse("case_detail", args=[world.case.pk])).status_code == 200
    my_cases = client.get(reverse("my_cases"))
    assert list(my_cases.context["cases"]) == [world.case]
    assert client.get(reverse("case_detail", args=[other.case.pk])).status_code == 404
    # The code is spent, the link used.
    assert (accept(Client(), token, code).status_code, problem_code(accept(Client(), token, code))) == (
        410,
        "accepted",
    )


def test_the_account_that_has_the_number_is_signed_in_rather_than_duplicated(
    client, world, defendant_party, sms_outbox
):
    owner = UserFactory(phone=INVITED_PHONE, phone_verified_at=timezone.now(), full_name="")
    token = invite(client, world, defendant_party, role="party", full_name="Zhou Jie")
    code = ask_for_code(client, token, sms_outbox)
    users = User.objects.count()

    response = accept(client, token, code)

    assert response.status_code == 302
    assert User.objects.count() == users
    assert int(client.session["_auth_user_id"]) == owner.pk
    owner.refresh_from_db()
    assert owner.full_name == "Zhou Jie" and owner.phone_verified_at is not None
    assert owner.check_password(PASSWORD)
    assert Participant.active.filter(user=owner, party=defendant_party, role="party").exists()


def test_a_signed_in_person_joins_and_the_invited_number_becomes_theirs(client, world, defendant_party, sms_outbox):
    person = UserFactory(full_name="Zhou Jie")
    token = invite(client, world, defendant_party, role="legal_representative", full_name="Zhou")
    client.force_login(person)
    assert "Join the case" in client.get(invitation_path(token)).content.decode()
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert response.status_code == 302
    person.refresh_from_db()
    assert (str(person.phone), person.identity_level, person.full_name) == (INVITED_PHONE, "mobile", "Zhou Jie")
    assert Participant.active.filter(user=person, party=defendant_party).exists()


def test_signed_in_with_another_verified_number_one_cannot_join_for_the_invited_person(
    client, world, defendant_party, sms_outbox
):
    helper = UserFactory(full_name="Helpful nephew", phone="+8613711112222", phone_verified_at=timezone.now())
    token = invite(client, world, defendant_party, role="legal_representative", full_name="Zhou")
    client.force_login(helper)
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert response.status_code == 403
    assert "Sign out first" in response.content.decode()
    helper.refresh_from_db()
    assert str(helper.phone) == "+8613711112222"
    assert not Participant.objects.filter(user=helper).exists()


def test_an_account_with_the_number_typed_in_but_never_verified_does_not_get_the_invitation(
    client, world, defendant_party, sms_outbox
):
    stranger = UserFactory(full_name="Someone who mistyped their number", phone=INVITED_PHONE)
    token = invite(client, world, defendant_party, role="legal_representative", full_name="Zhou Jie")
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert response.status_code == 302
    joined = Participant.active.filter(party=defendant_party).exclude(user=world.defendant).get().user
    assert joined != stranger and str(joined.phone) == INVITED_PHONE and joined.phone_verified_at
    stranger.refresh_from_db()
    assert stranger.phone is None
    assert int(client.session["_auth_user_id"]) == joined.pk


def test_a_second_person_cannot_use_the_link_after_the_first(client, world, plaintiff_party, sms_outbox):
    token = invite(client, world, plaintiff_party)
    first, second = Client(), Client()
    first.get(invitation_path(token))
    second.get(invitation_path(token))
    code = ask_for_code(first, token, sms_outbox)

    assert accept(first, token, code).status_code == 302
    late = accept(second, token, code)

    assert (late.status_code, problem_code(late)) == (410, "accepted")
    assert Participant.active.filter(party=plaintiff_party).count() == 2


def test_a_link_of_a_settled_case_cannot_be_used(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    cases.start_mediation(case=world.case, actor=world.mediator)
    cases.settle_case(case=world.case, actor=world.mediator, note="Settled.")
    assert MediationCase.objects.get(pk=world.case.pk).status == "settled"

    response = client.get(invitation_path(token))

    assert (response.status_code, problem_code(response)) == (410, "case_closed")


def test_an_administrator_cannot_be_attached_to_a_party_by_any_path(world, plaintiff_party):
    administrator = UserFactory(is_staff=True)
    case = cases.lock_case(world.case)

    with pytest.raises(cases.TransitionNotAllowed) as refused:
        cases.attach_participant(
            case=case, party=plaintiff_party, user=administrator, role="agent", actor=world.mediator
        )

    assert refused.value.code == "court_staff"
    assert not Participant.objects.filter(user=administrator).exists()


def test_the_party_in_person_is_invited_as_their_side_not_for_themselves(
    world, plaintiff_party, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invite_participant(
            case=world.case,
            actor=world.mediator,
            party=plaintiff_party,
            role="party",
            full_name="Sun",
            phone=INVITED_PHONE,
            email="self@example.test",
        )
    body = mail.outbox[0].body
    assert "invites you, as the Plaintiff, to take part" in body
    assert plaintiff_party.name not in body
    assert "The court will never ask you for money or bank details." in body


def test_signed_in_as_someone_else_the_account_with_the_number_joins_and_is_signed_in(
    client, world, defendant_party, people, sms_outbox
):
    owner = UserFactory(phone=INVITED_PHONE, phone_verified_at=timezone.now(), full_name="Zhou Jie")
    bystander = people["nobody"]
    token = invite(client, world, defendant_party, role="party", full_name="Zhou Jie")
    client.force_login(bystander)
    code = ask_for_code(client, token, sms_outbox)

    response = accept(client, token, code)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == owner.pk
    assert Participant.active.filter(user=owner, party=defendant_party).exists()
    assert not Participant.objects.filter(user=bystander).exists()
    bystander.refresh_from_db()
    assert not bystander.phone
