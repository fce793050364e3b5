"""Invitations, through the pages a mediator and an invited person use: the link is
emailed and shown once, only its hash is kept, following it is the only way to sign
up, and every misuse gets a clear page and attaches nobody."""

import datetime as dt
import hashlib
import html
import itertools
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from mediation.models import CaseEvent, Invitation, MediationCase, Notification, Participant, User
from mediation.services import cases
from mediation.services.invitations import invite_participant
from mediation.sms.backends.locmem import outbox as sms_outbox
from tests.cases import make_case
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quiet-river-2026"
INVITED_EMAIL = "wang.lawyer@example.test"


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def plaintiff_party(world):
    return world.case.parties.get(side="plaintiff")


@pytest.fixture
def defendant_party(world):
    return world.case.parties.get(side="defendant")


def shown_link(response) -> str:
    """The invitation link on the case page the mediator sees right after inviting."""
    match = re.search(r'<input[^>]*value="([^"]+)"[^>]*data-invitation-link', response.content.decode())
    assert match, "no invitation link on the page"
    return html.unescape(match.group(1))


def token_of(link: str) -> str:
    match = re.search(r"/invite/([^/]+)/$", link)
    assert match, link
    return match.group(1)


def invite(client, world, party, *, email=INVITED_EMAIL, role="agent", full_name="Wang Lawyer", capture=None):
    """The mediator invites through the case page; returns the raw token shown once."""
    client.force_login(world.mediator)
    data = {"invite-party": party.pk, "invite-role": role, "invite-full_name": full_name, "invite-email": email}
    if capture is not None:
        with capture(execute=True):
            response = client.post(reverse("case_action", args=[world.case.pk, "invite"]), data)
    else:
        response = client.post(reverse("case_action", args=[world.case.pk, "invite"]), data)
    assert response.status_code == 200, response.content
    client.logout()
    return token_of(shown_link(response))


def verified(user, email=None):
    """`user`, having confirmed `email` (their own address by default)."""
    EmailAddress.objects.create(user=user, email=email or user.email, verified=True, primary=email is None)
    return user


def invitation_path(token: str) -> str:
    return reverse("invitation", args=[token])


_new_phones = itertools.count(1)


def sign_up(client, email=INVITED_EMAIL, *, full_name="Wang Lawyer", phone=None, **extra):
    """The sign-up form (a mobile number, the address, a password), then the code texted
    to the number; the last response."""
    phone = phone or f"+86137{next(_new_phones):08d}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "phone": phone,
                "email": email,
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
                "full_name": full_name,
                **extra,
            },
        )
    if response.status_code != 302 or response["Location"] != reverse("account_verify_phone"):
        return response
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox[-1].body).group(1)
    return client.post(reverse("account_verify_phone"), {"code": code})


def signup_is_closed(response) -> bool:
    return "account/signup_closed.html" in [template.name for template in response.templates]


def problem_code(response) -> str | None:
    match = re.search(r'data-invitation-problem="([^"]*)"', response.content.decode())
    return match.group(1) if match else None


# Inviting ------------------------------------------------------------------------


def test_the_mediator_invites_by_email_and_sees_the_link_once(
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
                "invite-email": "Wang.Lawyer@Example.test",
            },
        )

    assert response.status_code == 200
    link = shown_link(response)
    token = token_of(link)
    assert link == f"http://127.0.0.1:8000/invite/{token}/"
    assert len(token) >= 40
    # The email carries the same link.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [INVITED_EMAIL]
    assert world.case.number in message.subject
    assert link in message.body
    # Like the invitation page: the court, the side the agent acts for, and the court's
    # number to check the invitation is genuine.
    assert settings.COURT_NAME in message.body
    assert f"for the Plaintiff, {plaintiff_party.name}" in message.body
    assert settings.COURT_CONTACT_PHONE in message.body
    # Only the hash is stored, nowhere the token itself.
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(Invitation.objects.values()))
    assert token not in str(list(CaseEvent.objects.values()))
    assert (invitation.party, invitation.role, invitation.email, invitation.state()) == (
        plaintiff_party,
        "agent",
        INVITED_EMAIL,
        "open",
    )
    assert invitation.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)
    assert invitation.expires_at - timezone.now() <= dt.timedelta(days=7)
    # The link is shown once: the case page never shows it again.
    again = client.get(reverse("case_detail", args=[world.case.pk]))
    assert token not in again.content.decode()
    assert "data-invitation-link" not in again.content.decode()
    assert "open until" in again.content.decode()


def test_an_invitation_without_email_gives_a_link_to_send_by_sms_and_mails_nothing(
    client, world, plaintiff_party, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    token = invite(client, world, plaintiff_party, email="", capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert Invitation.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant"])
def test_only_the_mediator_may_invite(client, world, plaintiff_party, who):
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": plaintiff_party.pk, "invite-role": "agent", "invite-email": "x@example.test"},
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_invitation_for_another_cases_party_is_refused(client, world, people):
    other = make_case(people["mediator"], None, label="B")
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "invite"]),
        {"invite-party": other.case.parties.first().pk, "invite-role": "agent", "invite-email": "x@example.test"},
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


# Following the link -----------------------------------------------------------------


def test_following_the_link_signed_out_shows_the_invitation(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)

    response = client.get(invitation_path(token))

    page = response.content.decode()
    assert response.status_code == 200
    assert world.case.number in page
    assert plaintiff_party.name in page
    assert "Agent (lawyer)" in page
    assert f"{reverse('account_signup')}?email=wang.lawyer%40example.test" in page
    assert problem_code(response) is None


def test_signing_up_through_the_invitation_joins_the_case(client, world, plaintiff_party, people):
    other = make_case(people["mediator"], None, label="B")
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))

    form = client.get(reverse("account_signup"), {"email": INVITED_EMAIL})
    assert form.status_code == 200
    assert not signup_is_closed(form)
    assert form.context["form"].initial["email"] == INVITED_EMAIL

    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[world.case.pk])
    user = User.objects.get(email=INVITED_EMAIL)
    assert user.full_name == "Wang Lawyer"
    assert user.check_password(NEW_PASSWORD)
    participant = Participant.active.get(user=user)
    assert (participant.case, participant.party, participant.role) == (world.case, plaintiff_party, "agent")
    invitation = Invitation.objects.get()
    assert (invitation.state(), invitation.accepted_by) == ("accepted", user)
    assert CaseEvent.objects.filter(case=world.case, action="join", actor=user).count() == 1
    # Signed in, the person sees their case and only theirs.
    case_page = client.get(reverse("case_detail", args=[world.case.pk]))
    assert case_page.status_code == 200
    my_cases = client.get(reverse("my_cases"))
    assert list(my_cases.context["cases"]) == [world.case]
    assert other.case.number not in my_cases.content.decode()
    assert client.get(reverse("case_detail", args=[other.case.pk])).status_code == 404


def test_the_create_account_button_of_the_invitation_page_lands_on_the_case(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party, role="legal_representative")
    page = client.get(invitation_path(token)).content.decode()
    href = html.unescape(re.search(r'href="(/accounts/signup/[^"]*)"', page).group(1))

    form = client.get(href)
    next_field = form.context.get("redirect_field_value")
    response = sign_up(client, **({"next": next_field} if next_field else {}))

    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[world.case.pk])
    assert client.get(response["Location"]).status_code == 200
    participant = Participant.active.get(user__email=INVITED_EMAIL)
    assert (participant.party, participant.role) == (plaintiff_party, "legal_representative")


def test_a_signed_in_person_with_the_invited_address_joins_by_posting(client, world, defendant_party):
    existing = verified(UserFactory(email=INVITED_EMAIL.upper(), full_name=""))
    token = invite(client, world, defendant_party, role="party", full_name="Zhou Jie")
    client.force_login(existing)

    page = client.get(invitation_path(token))
    assert page.status_code == 200
    assert "Join the case" in page.content.decode()
    assert not Participant.active.filter(user=existing).exists()

    response = client.post(invitation_path(token))

    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[world.case.pk])
    participant = Participant.active.get(user=existing)
    assert (participant.party, participant.role) == (defendant_party, "party")
    existing.refresh_from_db()
    assert existing.full_name == "Zhou Jie"


def test_a_person_who_signs_in_from_the_invitation_page_comes_back_to_join(client, world, defendant_party):
    existing = verified(UserFactory(email=INVITED_EMAIL))
    token = invite(client, world, defendant_party)
    page = client.get(invitation_path(token)).content.decode()
    login_href = html.unescape(re.search(r'href="(/accounts/login/[^"]*)"', page).group(1))

    signed_in = client.post(login_href, {"login": INVITED_EMAIL, "password": PASSWORD})

    assert signed_in.status_code == 302
    assert signed_in["Location"] == invitation_path(token)
    assert client.post(invitation_path(token)).status_code == 302
    assert Participant.active.filter(user=existing, party=defendant_party).exists()


def test_posting_the_invitation_signed_out_asks_to_sign_in_and_attaches_nobody(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    participants = Participant.objects.count()

    response = client.post(invitation_path(token))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Participant.objects.count() == participants
    assert Invitation.objects.get().state() == "open"


# Misuse -----------------------------------------------------------------------------


def expire(token, world):
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    return token


def revoke(token, world):
    cases_invitation = Invitation.objects.get()
    from mediation.services.invitations import revoke_invitation

    revoke_invitation(invitation=cases_invitation, actor=world.mediator)
    return token


def tamper(token, world):
    position = len(token) // 2
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def close_case(token, world):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="The plaintiff withdrew.")
    return token


def use_up(token, world):
    someone = verified(UserFactory(email=INVITED_EMAIL))
    from mediation.services.invitations import accept_invitation

    accept_invitation(raw_token=token, user=someone)
    return token


MISUSES = [
    (expire, 410, "expired"),
    (revoke, 410, "revoked"),
    (tamper, 404, "unknown"),
    (close_case, 410, "case_closed"),
    (use_up, 410, "accepted"),
]


@pytest.mark.parametrize(("spoil", "status", "code"), MISUSES, ids=[code for _, _, code in MISUSES])
def test_a_spoilt_link_gets_a_clear_page_attaches_nobody_and_creates_no_account(
    client, world, plaintiff_party, spoil, status, code
):
    token = spoil(invite(client, world, plaintiff_party), world)
    participants, users = Participant.objects.count(), User.objects.count()

    response = client.get(invitation_path(token))

    assert response.status_code == status
    assert problem_code(response) == code
    assert "Nobody was added to the case." in response.content.decode()
    # Sign-up stays closed: the spoilt link opened nothing.
    signup = sign_up(client, "someone.else@example.test")
    assert signup_is_closed(signup)
    assert (Participant.objects.count(), User.objects.count()) == (participants, users)


@pytest.mark.parametrize(("spoil", "status", "code"), MISUSES, ids=[code for _, _, code in MISUSES])
def test_a_spoilt_link_cannot_be_accepted_by_a_signed_in_person(client, world, plaintiff_party, spoil, status, code):
    token = spoil(invite(client, world, plaintiff_party), world)
    person = User.objects.filter(email=INVITED_EMAIL).first() or UserFactory(email=INVITED_EMAIL)
    client.force_login(person)
    participants = Participant.objects.count()

    response = client.post(invitation_path(token))

    assert response.status_code == status
    assert problem_code(response) == code
    assert Participant.objects.count() == participants


def test_an_expired_link_is_refused_once_the_week_is_over(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    assert client.get(invitation_path(token)).status_code == 200

    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        response = client.get(invitation_path(token))
        signup = sign_up(client)

    assert response.status_code == 410
    assert problem_code(response) == "expired"
    assert signup_is_closed(signup)
    assert not User.objects.filter(email=INVITED_EMAIL).exists()


def test_an_invitation_expiring_while_the_form_is_open_creates_no_account(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))
    assert not signup_is_closed(client.get(reverse("account_signup")))

    expire(token, world)
    response = sign_up(client)

    assert signup_is_closed(response)
    assert not User.objects.filter(email=INVITED_EMAIL).exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_second_person_cannot_use_the_link_after_the_first(client, world, plaintiff_party):
    from django.test import Client

    token = invite(client, world, plaintiff_party, email="")
    first, second = Client(), Client()
    # Both open the link before either has signed up.
    first.get(invitation_path(token))
    second.get(invitation_path(token))

    assert sign_up(first, "first@example.test").status_code == 302
    late = sign_up(second, "second@example.test")
    follow = second.get(invitation_path(token))

    assert signup_is_closed(late)
    assert not User.objects.filter(email="second@example.test").exists()
    assert (follow.status_code, problem_code(follow)) == (410, "accepted")
    assert list(Participant.active.filter(party=plaintiff_party).values_list("user__email", flat=True)) == [
        world.plaintiff.email,
        "first@example.test",
    ]


def test_a_second_sign_up_in_the_same_browser_creates_no_second_account(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party, email="")
    client.get(invitation_path(token))
    assert sign_up(client, "first@example.test").status_code == 302
    client.logout()

    response = sign_up(client, "again@example.test")

    assert signup_is_closed(response)
    assert not User.objects.filter(email="again@example.test").exists()


def test_a_signed_in_person_with_another_address_is_refused(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    client.force_login(world.defendant)

    page = client.get(invitation_path(token))
    posted = client.post(invitation_path(token))

    for response in (page, posted):
        assert response.status_code == 403
        assert problem_code(response) == "wrong_account"
    assert not Participant.active.filter(user=world.defendant, party=plaintiff_party).exists()
    assert Invitation.objects.get().state() == "open"


def test_signing_up_without_an_invitation_is_closed(client):
    users = User.objects.count()
    assert signup_is_closed(client.get(reverse("account_signup")))
    assert signup_is_closed(sign_up(client, "walk.in@example.test"))
    assert User.objects.count() == users


def test_signing_up_with_another_address_than_the_invited_one_is_refused(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))

    response = sign_up(client, "someone.else@example.test")

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert INVITED_EMAIL in str(response.context["form"].errors["email"])
    assert not User.objects.filter(email="someone.else@example.test").exists()
    assert Invitation.objects.get().state() == "open"


def test_a_person_cannot_join_both_sides_of_a_case(client, world, defendant_party):
    token = invite(client, world, defendant_party, email=world.plaintiff.email)
    client.force_login(verified(world.plaintiff))
    before = (Participant.objects.count(), CaseEvent.objects.count())

    response = client.post(invitation_path(token))

    assert response.status_code == 409
    assert problem_code(response) == "other_side"
    assert (Participant.objects.count(), CaseEvent.objects.count()) == before
    assert Invitation.objects.get().state() == "open"
    assert not Participant.active.filter(user=world.plaintiff, party__side="defendant").exists()


def test_a_link_of_a_settled_case_cannot_be_used(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    cases.start_mediation(case=world.case, actor=world.mediator)
    cases.settle_case(case=world.case, actor=world.mediator, note="Settled.")
    assert MediationCase.objects.get(pk=world.case.pk).status == "settled"

    response = client.get(invitation_path(token))

    assert (response.status_code, problem_code(response)) == (410, "case_closed")


# Binding to the person invited -------------------------------------------------------


def test_signing_up_through_the_invitation_confirms_the_invited_address(client, world, plaintiff_party):
    token = invite(client, world, plaintiff_party)
    client.get(invitation_path(token))

    sign_up(client)

    address = EmailAddress.objects.get(email=INVITED_EMAIL)
    assert address.verified
    assert Participant.active.filter(user=address.user, party=plaintiff_party).exists()


def test_an_unconfirmed_address_added_to_an_account_does_not_accept_the_invitation_sent_to_it(
    client, world, plaintiff_party, people
):
    # A department head adds the invited address to their account and makes it their
    # primary one, which allauth allows while email verification is off.
    head = people["head"]
    token = invite(client, world, plaintiff_party)
    client.force_login(head)
    client.post(reverse("account_email"), {"email": INVITED_EMAIL, "action_add": ""})
    client.post(reverse("account_email"), {"email": INVITED_EMAIL, "action_primary": ""})
    head.refresh_from_db()
    assert head.email == INVITED_EMAIL

    page = client.get(invitation_path(token))
    posted = client.post(invitation_path(token))

    for response in (page, posted):
        assert response.status_code == 403
    assert not Participant.objects.filter(user=head).exists()
    assert Invitation.objects.get().state() == "open"


def test_a_party_whose_invited_address_is_unconfirmed_is_asked_to_confirm_it_then_joins(client, world, defendant_party):
    person = UserFactory(email=INVITED_EMAIL)
    token = invite(client, world, defendant_party)
    client.force_login(person)

    refused = client.post(invitation_path(token))
    assert (refused.status_code, problem_code(refused)) == (403, "unverified_address")
    assert reverse("account_email") in refused.content.decode()
    assert not Participant.objects.filter(user=person).exists()

    verified(person)
    assert client.post(invitation_path(token)).status_code == 302
    assert Participant.active.filter(user=person, party=defendant_party).exists()


def test_a_court_staff_account_cannot_accept_an_invitation_without_an_address(client, world, plaintiff_party, people):
    token = invite(client, world, plaintiff_party, email="")
    for who in ("head", "liaison", "dept_liaison", "other_judge"):
        client.force_login(people[who])

        page = client.get(invitation_path(token))
        posted = client.post(invitation_path(token))

        for response in (page, posted):
            assert (response.status_code, problem_code(response)) == (403, "court_staff"), who
        assert not Participant.objects.filter(user=people[who]).exists()
    assert Invitation.objects.get().state() == "open"


def test_an_administrator_cannot_be_attached_to_a_party_by_any_path(world, plaintiff_party):
    administrator = UserFactory(is_staff=True)
    case = cases.lock_case(world.case)

    with pytest.raises(cases.TransitionNotAllowed) as refused:
        cases.attach_participant(
            case=case, party=plaintiff_party, user=administrator, role="agent", actor=world.mediator
        )

    assert refused.value.code == "court_staff"
    assert not Participant.objects.filter(user=administrator).exists()


def test_only_an_account_that_verified_the_invited_address_hears_of_the_invitation_in_the_app(
    client, world, plaintiff_party, people
):
    # Added to an account and made its primary address, unconfirmed.
    claimant = people["nobody"]
    EmailAddress.objects.create(user=claimant, email=INVITED_EMAIL, verified=False, primary=True)
    claimant.email = INVITED_EMAIL
    claimant.save(update_fields=["email"])
    owner = verified(UserFactory(email="owner@example.test"), INVITED_EMAIL)

    invite(client, world, plaintiff_party)

    assert Notification.objects.filter(recipient=owner, kind="case.invited").exists()
    assert not Notification.objects.filter(recipient=claimant).exists()


def test_the_party_in_person_is_invited_as_their_side_not_for_themselves(
    world, plaintiff_party, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invite_participant(
            case=world.case, actor=world.mediator, party=plaintiff_party, role="party", email="self@example.test"
        )
    body = mail.outbox[0].body
    assert "invites you, as the Plaintiff, to take part" in body
    assert plaintiff_party.name not in body
    assert "The court will never ask you for money or bank details." in body
