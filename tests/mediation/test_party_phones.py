"""A party's phone number, as the mediator types it on the case page: refused clearly
when it is not a number, stored in E.164 however it was typed, shown back as people
write it, and the form to correct the party shows it the same way."""

import html
import re

import pytest
from django.urls import reverse

from mediation.models import CaseEvent, Party
from tests.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


def add_party(client, world, phone, name="孙桂兰"):
    client.force_login(world.mediator)
    return client.post(
        reverse("case_action", args=[world.case.pk, "add_party"]),
        {"add_party-side": "defendant", "add_party-kind": "person", "add_party-name": name, "add_party-phone": phone},
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


@pytest.mark.parametrize("typed", ["12345", "call after six", "+86 138"])
def test_something_that_is_not_a_phone_number_is_refused_on_its_field(client, world, typed):
    parties = Party.objects.count()

    response = add_party(client, world, typed)

    assert response.status_code == 400
    errors = " ".join(response.context["action_forms"]["add_party"].errors["phone"])
    assert "is not a valid phone number" in errors
    assert Party.objects.count() == parties


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("138 1234 5678", "+8613812345678", "138 1234 5678"),
        ("138-1234-5678", "+8613812345678", "138 1234 5678"),
        ("(010) 6512 3456", "+861065123456", "010 6512 3456"),
        ("+852 6123 4567", "+85261234567", "+852 6123 4567"),
    ],
)
def test_a_partys_phone_is_stored_in_e164_and_shown_as_people_write_it(client, world, typed, stored, shown):
    response = add_party(client, world, typed)
    assert response.status_code == 302

    party = Party.objects.get(name="孙桂兰")
    assert str(party.phone) == stored
    page = client.get(reverse("case_detail", args=[world.case.pk]))
    shown_phones = re.findall(r'data-personal="phone">([^<]*)<', page_text(page))
    assert any(shown in text for text in shown_phones), shown_phones


def test_the_correction_form_shows_the_number_as_typed_and_an_unchanged_post_changes_nothing(client, world):
    add_party(client, world, "13812345678")
    party = Party.objects.get(name="孙桂兰")
    page = client.get(reverse("case_detail", args=[world.case.pk]))
    entry = page.content.decode().split(f'data-party="{party.pk}"')[1].split("</article>")[0]
    field = re.search(r'<input[^>]*name="edit_party-phone"[^>]*>', entry)
    assert field and 'value="138 1234 5678"' in field.group(0)
    events = CaseEvent.objects.filter(action="edit_party").count()

    response = client.post(
        reverse("case_action", args=[world.case.pk, "edit_party"]),
        {
            "edit_party-party": party.pk,
            "edit_party-side": "defendant",
            "edit_party-kind": "person",
            "edit_party-name": "孙桂兰",
            "edit_party-phone": "138 1234 5678",
        },
    )

    assert response.status_code == 302
    assert CaseEvent.objects.filter(action="edit_party").count() == events


def test_a_party_without_a_phone_shows_none(client, world):
    add_party(client, world, "")
    page = client.get(reverse("case_detail", args=[world.case.pk]))
    party = Party.objects.get(name="孙桂兰")
    entry = page.content.decode().split(f'data-party="{party.pk}"')[1].split("</article>")[0]
    assert "data-party-phone" not in entry
