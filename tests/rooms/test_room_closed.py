"""When a room is closed, every face says so: the room page, the case page, the rooms
API and the socket (4408) apply one rule, `Room.is_closed` (closed by the mediator,
or past `closes_at`, the end of the grace period after the agreement's seal)."""

import datetime as dt
import json
import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client as PageClient
from django.urls import reverse
from django.utils import timezone

from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)


def _room_config(html: str) -> dict:
    match = re.search(r'<script id="room-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no room config on the page"
    return json.loads(match.group(1))


@database_sync_to_async
def what_the_pages_say(user, room) -> dict:
    """Whether the room is closed, as the room page, the case page and the rooms API
    show it to `user`."""
    browser = PageClient()
    browser.force_login(user)
    room_page = browser.get(reverse("room", args=[room.pk])).content.decode()
    case_page = browser.get(reverse("case_detail", args=[room.case_id])).content.decode()
    link = re.search(rf'href="{reverse("room", args=[room.pk])}">(.*?)</a>', case_page, re.S)
    assert link, "the case page links no such room"
    [listed] = [listed for listed in browser.get(reverse("api_my_rooms")).json() if listed["id"] == room.pk]
    return {
        "room page banner": "This room is closed" in room_page,
        "room page composer": "data-composer" in room_page,
        "room page client": _room_config(room_page)["closed"],
        "case page": "closed" in link.group(1),
        "rooms API": listed["closed"],
    }


@database_sync_to_async
def set_closes_at(room, closes_at):
    Room.objects.filter(pk=room.pk).update(closes_at=closes_at)


CLOSED = {
    "room page banner": True,
    "room page composer": False,
    "room page client": True,
    "case page": True,
    "rooms API": True,
}
OPEN = {key: not value for key, value in CLOSED.items()}


async def test_after_the_grace_period_every_face_says_closed_as_the_socket_does(world, connect):
    await set_closes_at(world.joint, timezone.now() - dt.timedelta(seconds=1))

    _socket, code = await connect(world.plaintiff, world.joint)

    assert code == 4408
    assert await what_the_pages_say(world.plaintiff, world.joint) == CLOSED
    assert await what_the_pages_say(world.mediator, world.joint) == CLOSED


async def test_during_the_grace_period_every_face_says_open_as_the_socket_does(world, connect):
    await set_closes_at(world.joint, timezone.now() + dt.timedelta(minutes=90))

    _socket, code = await connect(world.plaintiff, world.joint)

    assert code is None
    assert await what_the_pages_say(world.plaintiff, world.joint) == OPEN
