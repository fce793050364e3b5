"""A caucus looks like one: its own colour and a banner saying who cannot see it, in
the reader's language; the joint room has neither."""

import html
import re

import pytest
from django.urls import reverse

from tests.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_world(mediator, judge):
    return make_case(mediator, judge)


def room_page(client, user, room, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    response = client.get(reverse("room", args=[room.pk]))
    assert response.status_code == 200
    return response.content.decode()


def banner(page):
    found = re.search(r"<p class=\"caucus-banner\" data-caucus-banner>(.*?)</p>", page, re.S)
    return html.unescape(found.group(1).strip()) if found else None


def main_classes(page):
    return re.search(r'<main id="main" class="([^"]*)"', page).group(1).split()


def test_a_party_in_their_caucus_is_told_the_other_side_cannot_see_it(client, case_world):
    page = room_page(client, case_world.plaintiff, case_world.plaintiff_caucus)

    assert banner(page) == "Only your side and the mediator see this room: the other side cannot see it."
    assert "page--caucus" in main_classes(page)


def test_the_banner_is_in_the_readers_language(client, case_world):
    page = room_page(client, case_world.defendant, case_world.defendant_caucus, language="zh-hans")

    assert banner(page) == "本调解室仅您方与调解员可见，对方看不到。"


@pytest.mark.parametrize(
    ("room_name", "expected"),
    [
        ("plaintiff_caucus", "The defendant's side cannot see this room."),
        ("defendant_caucus", "The plaintiff's side cannot see this room."),
    ],
)
def test_the_mediator_is_told_which_side_cannot_see_the_caucus(client, case_world, room_name, expected):
    page = room_page(client, case_world.mediator, getattr(case_world, room_name))

    assert banner(page) == expected
    assert "page--caucus" in main_classes(page)


def test_the_joint_room_has_no_caucus_banner_nor_colour(client, case_world):
    for user in (case_world.mediator, case_world.plaintiff, case_world.defendant):
        page = room_page(client, user, case_world.joint)
        assert banner(page) is None
        assert "page--caucus" not in main_classes(page)
