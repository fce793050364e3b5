"""Signing up and in by mobile number: a code texted to the number, with the limits of
mediation.verification_codes (5 minutes, 5 wrong tries, 60 s between codes, 5 per
number and 20 per address an hour), through allauth's pages. Staff never sign in by
code; addresses and passwords keep working for whoever has them."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from mediation.account_forms import ConfirmLoginCodeForm, sms_marker
from mediation.demo import DEMO_PASSWORD, PARTIES, STAFF, _party_user, seed_people
from mediation.models import AuditEntry, IdentityLevel, Participant, PhoneCode, User
from mediation.roles import Role
from mediation.services.invitations import invite_participant
from mediation.verification_codes import send_code
from tests.cases import make_case
from tests.factories import PASSWORD, UserFactory, staff

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
TYPED = "138 0013 8000"
OTHER_PHONE = "+8613900139000"


def code_in(message) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)


def texted():
    """Run the request's after-commit work (the SMS is sent after commit)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_text(response) -> str:
    return response.content.decode()


def party(phone=PHONE, **fields):
    fields.setdefault("email", None)
    return UserFactory(phone=phone, phone_verified_at=timezone.now(), **fields)


def request_code(client, phone=TYPED, **extra):
    with texted():
        return client.post(reverse("account_request_login_code"), {"phone": phone}, **extra)


def confirm(client, code):
    return client.post(reverse("account_confirm_login_code"), {"code": code})


# Refusals --------------------------------------------------------------------------


def test_a_wrong_code_signs_nobody_in_and_says_how_many_tries_are_left(client, sms_outbox):
    party()
    request_code(client)
    [message] = sms_outbox
    wrong = "000000" if code_in(message) != "000000" else "111111"

    response = confirm(client, wrong)

    assert response.status_code == 200
    assert "The code is not right. You can try 4 more times." in page_text(response)
    assert signed_in_user(client) is None


def test_an_expired_code_is_refused_with_a_clear_message(client, sms_outbox):
    party()
    request_code(client)
    code = code_in(sms_outbox[0])

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5, seconds=1)):
        response = confirm(client, code)

    assert "This code has expired: codes are valid for 5 minutes. Ask for a new code." in page_text(response)
    assert signed_in_user(client) is None


def test_a_used_code_cannot_be_used_again(sms_outbox):
    with texted():
        send_code(PHONE, "login")
    code = code_in(sms_outbox[0])
    first = ConfirmLoginCodeForm(data={"code": code}, code=sms_marker(PHONE))
    assert first.is_valid()

    again = ConfirmLoginCodeForm(data={"code": code}, code=sms_marker(PHONE))

    assert not again.is_valid()
    assert again.errors["code"] == ["This code was already used. Ask for a new code."]


def test_the_sixth_try_on_a_code_is_refused_even_when_right(client, sms_outbox):
    party()
    request_code(client)
    code = code_in(sms_outbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        confirm(client, wrong)

    response = confirm(client, code)

    assert "This code was tried too many times. Ask for a new code." in page_text(response)
    assert signed_in_user(client) is None


def test_a_new_code_comes_no_sooner_than_a_minute_after_the_last(client, sms_outbox):
    party()
    request_code(client)

    with texted():
        response = client.post(reverse("account_confirm_login_code"), {"action": "resend"})

    assert len(sms_outbox) == 1
    assert any(
        re.fullmatch(r"A code was sent to this number less than a minute ago\. Try again in \d+ seconds\.", message)
        for message in shown_messages(response)
    ), shown_messages(response)
    # From another browser, the same: nothing sent, the form says when to try again.
    elsewhere = Client()
    refused = request_code(elsewhere)
    assert refused.status_code == 200 and len(sms_outbox) == 1
    assert "less than a minute ago" in page_text(refused)
    assert f'value="{TYPED}"' in page_text(refused)
    assert PhoneCode.objects.count() == 1


def test_at_most_five_codes_a_number_an_hour_through_the_form(client, sms_outbox):
    party()
    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute)):
            request_code(Client())
    assert len(sms_outbox) == 5

    with time_machine.travel(start + dt.timedelta(minutes=11)):
        response = request_code(client, follow=True)

    assert len(sms_outbox) == 5
    # The oldest of the five was sent 11 minutes ago: a new one in 49 minutes (and seconds).
    assert re.search(
        r"Five codes were sent to this number in the last hour\. Try again in (49|50) minutes\.", page_text(response)
    )


def test_at_most_twenty_codes_from_one_address_an_hour(sms_outbox):
    numbers = [f"+86139001{n:05d}" for n in range(21)]
    for number in numbers:
        party(phone=number)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for number in numbers[:20]:
        request_code(client, phone=number)
        client = Client(REMOTE_ADDR="203.0.113.9")
    assert len(sms_outbox) == 20

    response = request_code(client, phone=numbers[20], follow=True)

    assert len(sms_outbox) == 20
    assert "Too many codes were asked for from this connection in the last hour." in page_text(response)


def test_a_number_without_an_account_gets_no_text_and_no_code_works(client, sms_outbox):
    response = request_code(client)

    assert response.status_code == 302  # the same page as for a number with an account
    assert sms_outbox == []
    assert "The code is not right. You can try 4 more times." in page_text(confirm(client, "123456"))
    assert signed_in_user(client) is None


def test_a_number_typed_on_an_account_but_never_confirmed_signs_nobody_in(client, sms_outbox):
    unconfirmed = UserFactory(email=None, phone=PHONE)  # typed in before numbers were verified

    request_code(client)

    assert sms_outbox == []  # whoever holds the number is not texted a way into that account
    assert "The code is not right." in page_text(confirm(client, "123456"))
    assert signed_in_user(client) is None and unconfirmed.phone_verified_at is None


def answers(phone) -> list:
    """What a stranger sees asking for and trying sign-in codes for `phone`, twice."""
    client = Client()
    first = request_code(client, phone)
    wrong = page_text(confirm(client, "000000"))
    again = request_code(client, phone)
    return [
        first.status_code,
        first.get("Location"),
        re.findall(r"The code is not right[^<]*", wrong),
        again.status_code,
        re.findall(r"A code was sent to this number less than a minute ago\.", page_text(again)),
    ]


def test_nobody_learns_from_the_sign_in_pages_which_numbers_have_accounts(sms_outbox):
    party()
    staff(Role.JUDGE, phone="+8613700137000", phone_verified_at=timezone.now())
    with_account = answers(TYPED)
    if code_in(sms_outbox[0]) == "000000":  # the one code in a million the wrong guess hits
        pytest.skip("the guessed code was the right one")

    assert answers(OTHER_PHONE) == with_account
    assert answers("+8613700137000") == with_account
    assert with_account[2]  # the same refusal, not none
    assert [message.to for message in sms_outbox] == [PHONE]
    # Nor through the public API, which is refused for each alike within the minute.
    for number in (PHONE, OTHER_PHONE, "+8613700137000"):
        response = Client().post(
            reverse("api_public_codes"), {"phone": number, "purpose": "track"}, content_type="application/json"
        )
        assert response.status_code == 429, number


def test_a_staff_member_cannot_sign_in_by_sms_code(client, sms_outbox):
    judge = staff(Role.JUDGE, phone=PHONE, phone_verified_at=timezone.now())

    request_code(client)
    response = confirm(client, "123456")

    # Answered as for a party's number (a code recorded, never texted), so that the
    # page does not tell a staff number from another.
    assert sms_outbox == []
    assert PhoneCode.objects.get().code_hash == "-" * 64
    assert "The code is not right. You can try 4 more times." in page_text(response)
    assert signed_in_user(client) is None
    # Even a code texted to the number does not sign staff in.
    PhoneCode.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    with texted():
        send_code(PHONE, "login")
    assert "The code is not right." in page_text(confirm(client, code_in(sms_outbox[0])))
    assert signed_in_user(client) is None
    assert judge.check_password(PASSWORD)


def test_a_party_made_staff_after_the_code_was_sent_is_not_signed_in_by_it(client, sms_outbox):
    person = party()
    request_code(client)
    person.is_staff = True
    person.email = "clerk@court.test"
    person.save()

    response = confirm(client, code_in(sms_outbox[0]))

    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert signed_in_user(client) is None
    assert "Court staff sign in with their password and authenticator app, not by code." in shown_messages(response)


def test_staff_cannot_reauthenticate_by_sms_code(client):
    from allauth.account.adapter import get_adapter

    judge = staff(Role.JUDGE, phone=PHONE, phone_verified_at=timezone.now())
    someone = party(phone=OTHER_PHONE)

    methods = {
        user: [method["id"] for method in get_adapter().get_reauthentication_methods(user)] for user in (judge, someone)
    }

    assert "reauthenticate_by_code" not in methods[judge]
    assert "reauthenticate_by_code" in methods[someone]


def test_a_malformed_number_is_a_clear_error_and_sends_nothing(client, sms_outbox):
    response = request_code(client, phone="12345")

    assert response.status_code == 200
    assert "This is not a valid mobile number." in page_text(response)
    assert sms_outbox == []


# Signing in ------------------------------------------------------------------------


def test_the_sign_in_page_offers_a_code_by_sms_and_the_password(client):
    page = page_text(client.get(reverse("account_login")))

    assert reverse("account_request_login_code") in page
    assert "Sign in with a code sent to my phone" in page
    assert 'name="password"' in page


def test_a_party_signs_in_with_the_code_texted_to_their_number(client, sms_outbox):
    person = party(password=None)
    person.set_unusable_password()
    person.save()

    response = request_code(client)

    assert response.status_code == 302 and response["Location"].startswith(reverse("account_confirm_login_code"))
    [message] = sms_outbox
    assert message.to == PHONE and message.template == "verification_code"
    assert PhoneCode.objects.get().purpose == "login"
    code = code_in(message)
    assert code not in str(dict(client.session))  # allauth keeps a marker, not the code

    response = confirm(client, code)

    assert response.status_code == 302
    assert signed_in_user(client) == person
    # The number was verified already: signing in by code does not record it again.
    assert not AuditEntry.objects.filter(action="account.phone_verified").exists()


def test_existing_email_and_password_sign_ins_keep_working(client):
    judge = staff(Role.JUDGE)
    person = party(email="zhou@example.test")

    for login in (judge.email, person.email, TYPED):
        browser = Client()
        response = browser.post(reverse("account_login"), {"login": login, "password": PASSWORD})
        assert response.status_code == 302, login
        assert signed_in_user(browser) in (judge, person)
    assert signed_in_user(client) is None


def test_every_demo_login_keeps_working_with_its_address_and_password():
    seed_people()
    for person in PARTIES:
        _party_user(person)
    for email in [person.email for person in STAFF] + [person.email for person in PARTIES]:
        browser = Client()
        response = browser.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert signed_in_user(browser).email == email


# Signing up: only by accepting an invitation ----------------------------------------


@pytest.fixture
def invitation_token(people):
    world = make_case(people["mediator"], people["judge"])
    party_row = world.case.parties.get(side="defendant")
    _invitation, token = invite_participant(
        case=world.case,
        actor=world.mediator,
        party=party_row,
        role="legal_representative",
        phone=PHONE,
        full_name="Zhou Jie",
    )
    return token, world


def sign_up(client, phone=TYPED, **fields):
    with texted():
        return client.post(reverse("account_signup"), {"full_name": "Zhou Jie", "phone": phone, **fields})


def test_sign_up_is_closed_without_an_invitation(client, sms_outbox):
    response = sign_up(client)

    assert "account/signup_closed.html" in [template.name for template in response.templates]
    assert not User.objects.filter(phone=PHONE).exists()
    assert sms_outbox == []


def test_sign_up_stays_closed_after_following_an_invitation_link(client, invitation_token, sms_outbox):
    token, _world = invitation_token
    client.get(reverse("invitation", args=[token]))

    response = sign_up(client)

    # The link alone opens nothing: the invitation page's code does (test_invitations).
    assert "account/signup_closed.html" in [template.name for template in response.templates]
    assert not User.objects.filter(phone=PHONE).exists()
    assert sms_outbox == []


def test_a_party_who_joined_by_invitation_has_no_address_and_signs_in_again_by_code(
    client, invitation_token, sms_outbox
):
    from tests.cases import accept_by_text

    token, world = invitation_token
    someone_without_address = party(phone=OTHER_PHONE)  # NULL addresses do not collide
    with texted():
        acceptance = accept_by_text(token)
    user = acceptance.account
    assert acceptance.created
    assert (user.email, user.has_usable_password()) == (None, False)
    assert user.identity_level == IdentityLevel.MOBILE
    assert str(user) == "Zhou Jie" and someone_without_address.email is None

    PhoneCode.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    request_code(client)
    response = confirm(client, code_in(sms_outbox[-1]))

    assert response.status_code == 302
    assert signed_in_user(client) == user
    assert Participant.active.get(user=user).case == world.case


# The account page: adding or changing one's number -----------------------------------


def test_the_phone_page_needs_a_signed_in_person(client):
    response = client.get(reverse("account_change_phone"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_a_party_adds_their_number_verified_by_a_code(client, sms_outbox):
    person = UserFactory()
    client.force_login(person)
    assert client.get(reverse("account_change_phone")).status_code == 200

    with texted():
        response = client.post(reverse("account_change_phone"), {"phone": TYPED})

    assert response.status_code == 302 and response["Location"] == reverse("account_verify_phone")
    person.refresh_from_db()
    assert person.phone is None  # not before the code
    [message] = sms_outbox
    wrong = "000000" if code_in(message) != "000000" else "111111"
    client.post(reverse("account_verify_phone"), {"code": wrong})
    person.refresh_from_db()
    assert person.phone is None

    client.post(reverse("account_verify_phone"), {"code": code_in(message)})

    person.refresh_from_db()
    assert str(person.phone) == PHONE and person.identity_level == IdentityLevel.MOBILE


def test_a_number_another_account_has_cannot_be_taken(client, sms_outbox):
    party()
    person = UserFactory()
    client.force_login(person)

    with texted():
        response = client.post(reverse("account_change_phone"), {"phone": TYPED})

    assert response.status_code == 200
    assert "A user is already registered with this phone number." in page_text(response)
    assert sms_outbox == []
    person.refresh_from_db()
    assert person.phone is None


# Accounts without an address ---------------------------------------------------------


def test_staff_accounts_need_an_address_parties_do_not():
    with pytest.raises(ValueError):
        User.objects.create_superuser(email="", password="x")
    with pytest.raises(ValueError):
        User.objects.create_user(email="", password="x", is_staff=True, phone=PHONE)
    first = User.objects.create_user(email="", phone=PHONE)
    second = User.objects.create_user(email=None, phone=OTHER_PHONE)
    assert (first.email, second.email) == (None, None)
    assert str(first) == "138****8000"


def test_the_admin_refuses_a_staff_account_without_an_address(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    judge = staff(Role.JUDGE)

    response = client.post(
        reverse("admin:mediation_user_change", args=[judge.pk]),
        {
            "email": "",
            "full_name": judge.full_name,
            "phone": "",
            "language": "",
            "is_active": "on",
            "groups": [group.pk for group in judge.groups.all()],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 200
    assert "Court staff need an email address." in page_text(response)
    judge.refresh_from_db()
    assert judge.email


def test_the_admin_cannot_change_a_verified_number_or_name_nor_shows_the_number_whole(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    person = party(full_name="王秀英", real_name_verified_at=timezone.now(), real_name_verifier="in_person")
    page = page_text(client.get(reverse("admin:mediation_user_change", args=[person.pk])))
    assert "138****8000" in page and "13800138000" not in page.replace(" ", "")
    assert 'name="phone"' not in page and 'name="full_name"' not in page

    client.post(
        reverse("admin:mediation_user_change", args=[person.pk]),
        {
            "email": "",
            "full_name": "someone else",
            "phone": "+8613900139000",
            "language": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    person.refresh_from_db()
    assert (str(person.phone), person.full_name) == (PHONE, "王秀英")
    assert person.phone_verified_at is not None


def test_the_admin_creates_court_accounts_only_with_an_address(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    form = {
        "full_name": "Clerk",
        "password1": "Quiet-river-2026",
        "password2": "Quiet-river-2026",
        "usable_password": "true",
    }

    refused = client.post(reverse("admin:mediation_user_add"), {**form, "email": ""})
    created = client.post(reverse("admin:mediation_user_add"), {**form, "email": "clerk@court.test"})

    assert refused.status_code == 200
    assert "Court staff need an email address." in page_text(refused)
    assert created.status_code == 302
    assert list(User.objects.filter(full_name="Clerk").values_list("email", flat=True)) == ["clerk@court.test"]


def test_the_allauth_version_the_sms_sign_in_relies_on_is_checked_at_start_up(monkeypatch):
    import allauth

    from mediation.checks import check_allauth_integration

    assert check_allauth_integration(None) == []
    monkeypatch.setattr(allauth, "__version__", "66.0.0")
    assert [problem.id for problem in check_allauth_integration(None)] == ["mediation.E002"]


def test_a_party_reauthenticates_with_a_texted_code_staff_cannot(client, sms_outbox):
    person = party()
    client.force_login(person)
    with texted():
        asked = client.post(reverse("account_request_reauthentication_code"), {"recipient": PHONE})
    assert asked.status_code == 302
    [message] = sms_outbox
    wrong = "000000" if code_in(message) != "000000" else "111111"
    assert "The code is not right." in page_text(
        client.post(reverse("account_confirm_reauthentication_code"), {"code": wrong})
    )

    confirmed = client.post(reverse("account_confirm_reauthentication_code"), {"code": code_in(message)})

    assert confirmed.status_code == 302
    assert PhoneCode.objects.get().used_at is not None

    judge = staff(Role.JUDGE, phone=OTHER_PHONE, phone_verified_at=timezone.now())
    court = Client()
    court.force_login(judge)
    with texted():
        refused = court.post(reverse("account_request_reauthentication_code"), {"recipient": OTHER_PHONE})
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("account_reauthenticate"))
    assert len(sms_outbox) == 1


def test_asking_for_codes_is_throttled_per_address_even_for_numbers_without_an_account(settings, sms_outbox):
    from django.core.cache import cache

    from config.settings import base as base_settings

    settings.ACCOUNT_RATE_LIMITS = base_settings.ACCOUNT_RATE_LIMITS  # 30 a minute from one address
    cache.clear()
    try:
        # A fresh browser each time (one with a sign-in under way is sent back to it).
        answers = [request_code(Client(REMOTE_ADDR="198.51.100.7"), phone=f"+86139002{n:05d}") for n in range(31)]
    finally:
        cache.clear()

    # Each counts as a code asked for from this address, texted or not: the hour's 20.
    assert [answer.status_code for answer in answers[:20]] == [302] * 20
    assert {answer.status_code for answer in answers[20:]} == {200}
    assert "Too many codes were asked for from this connection in the last hour." in page_text(answers[20])
    assert "Too many codes were asked for from this connection. Try again in a minute." in page_text(answers[30])
    assert sms_outbox == []
