"""The room event catalogue (rooms.events): every kind a room can hold, the frame it
reaches members as, and how each reader reads it."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from rooms.events import EVENTS, UnknownEvent, render_event
from rooms.models import RoomEntry
from rooms.protocol import encode, entry_frame
from rooms.services import post_event
from tests.cases import make_case

pytestmark = pytest.mark.django_db

FRAME_KEYS = {"type", "seq", "kind", "actor", "data", "sent_at"}


@pytest.fixture
def case_world(mediator, judge):
    return make_case(mediator, judge)


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_each_kind_reaches_members_as_its_catalogued_frame(case_world, kind):
    example = EVENTS[kind].example
    with transaction.atomic():
        entry = post_event(room=case_world.joint, kind=kind, actor=case_world.mediator, data=example)

    frame = json.loads(encode(entry_frame(RoomEntry.objects.get(pk=entry.pk))))

    assert set(frame) == FRAME_KEYS
    assert (frame["type"], frame["kind"], frame["seq"]) == ("event", kind, entry.seq)
    assert frame["data"] == example
    assert frame["actor"]["id"] == case_world.mediator.pk and frame["actor"]["role"] == "mediator"


@pytest.mark.parametrize("kind", sorted(EVENTS))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_kind_reads_as_a_sentence_in_each_language(kind, language):
    actor = {"id": 1, "name": "Zhao Lei", "role": "mediator", "side": None}
    with translation.override(language):
        text = render_event(kind, actor, EVENTS[kind].example)
        platform_text = render_event(kind, None, EVENTS[kind].example)

    assert "%(" not in text and kind not in text
    assert text.strip()
    if "%(actor)s" in str(EVENTS[kind].text):
        assert "Zhao Lei" in text and "Zhao Lei" not in platform_text
    if language == "zh-hans":
        with translation.override("en"):
            assert text != render_event(kind, actor, EVENTS[kind].example)


def test_a_kind_not_in_the_catalogue_is_refused_and_nothing_is_stored(case_world):
    before = RoomEntry.objects.count()
    with pytest.raises(UnknownEvent), transaction.atomic():
        post_event(room=case_world.joint, kind="session.note", actor=case_world.mediator)
    assert RoomEntry.objects.count() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"session": "3"},
        {"session": True},
        {"session": 3, "note": "free text"},
    ],
)
def test_data_that_is_not_the_kinds_params_is_refused(case_world, data):
    with pytest.raises(UnknownEvent), transaction.atomic():
        post_event(room=case_world.joint, kind="session.started", actor=case_world.mediator, data=data)
    assert not RoomEntry.objects.filter(kind="session.started").exists()


def test_every_kind_the_code_posts_is_catalogued_and_every_catalogued_kind_is_posted():
    posting = re.compile(r"post_(?:case_)?event\((?:[^()]|\([^()]*\))*?kind=\"([^\"]+)\"", re.DOTALL)
    posted = set()
    for app in ("rooms", "documents", "mediation"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            posted |= set(posting.findall(path.read_text(encoding="utf-8")))
    assert posted == set(EVENTS)


def test_the_room_page_gives_its_client_every_kinds_text_in_the_readers_language(client, case_world):
    case_world.plaintiff.language = "zh-hans"
    case_world.plaintiff.save(update_fields=["language"])
    client.force_login(case_world.plaintiff)

    response = client.get(reverse("room", args=[case_world.joint.pk]))

    config = json.loads(re.search(r'id="room-config"[^>]*>(.*?)</script>', response.content.decode(), re.S).group(1))
    assert set(config["eventTexts"]) == set(EVENTS)
    assert config["eventTexts"]["room.closed"] == "调解员已关闭本调解室。"
