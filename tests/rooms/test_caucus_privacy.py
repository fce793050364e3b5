"""What is said in a caucus stays there: a member of the joint room cannot tell from
anything the platform sends them how many entries a caucus room got meanwhile."""

from __future__ import annotations

import itertools
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse

from rooms.events import EVENTS
from rooms.services import post_event

pytestmark = pytest.mark.django_db(transaction=True)

CAUCUS_MESSAGES = 5


def new_message(body: str, client_id: str | None = None) -> dict:
    return {"type": "message.send", "client_id": client_id or str(uuid.uuid4()), "body": body}


@database_sync_to_async
def record_event(room, actor, kind: str) -> None:
    with transaction.atomic():
        post_event(room=room, kind=kind, actor=actor, data=EVENTS[kind].example)


@database_sync_to_async
def history_as(user, room) -> list[dict]:
    client = HttpClient()
    client.force_login(user)
    response = client.get(reverse("api_room_history", args=[room.pk]), {"limit": 200})
    assert response.status_code == 200
    return response.json()["entries"]


def numbers_in(frame, path: str = "") -> dict[str, int | float]:
    """Every number in a frame, by its path (`author.id`, `seq` ...)."""
    if isinstance(frame, bool):
        return {}
    if isinstance(frame, int | float):
        return {path: frame}
    if isinstance(frame, dict):
        return {k: v for key, value in frame.items() for k, v in numbers_in(value, f"{path}.{key}".lstrip(".")).items()}
    if isinstance(frame, list):
        return {k: v for i, value in enumerate(frame) for k, v in numbers_in(value, f"{path}[{i}]").items()}
    return {}


def assert_nothing_counts_what_happened_elsewhere(channel: str, frames: list[dict]) -> None:
    """Consecutive entries of the joint room (seq n, n + 1): no number the two frames
    share a place for differs by more than the one entry between them. A global
    counter (the entries' primary key) would differ by the caucus entries stored
    meanwhile."""
    frames = sorted(frames, key=lambda frame: frame["seq"])
    for before, after in itertools.pairwise(frames):
        assert after["seq"] == before["seq"] + 1, (channel, before, after)
        numbers_before, numbers_after = numbers_in(before), numbers_in(after)
        for path in numbers_before.keys() & numbers_after.keys():
            assert abs(numbers_after[path] - numbers_before[path]) <= 1, (
                f"{channel}: “{path}” goes from {numbers_before[path]} to {numbers_after[path]} "
                f"across the caucus's {CAUCUS_MESSAGES + 1} entries"
            )


async def test_a_joint_room_member_cannot_count_the_caucus_entries_from_any_frame(world, connect):
    defendant, _ = await connect(world.defendant, world.joint)
    mediator_in_caucus, _ = await connect(world.mediator, world.plaintiff_caucus)
    first_seq = defendant.hello["last_seq"] + 1

    # In the joint room: a message and an event.
    await defendant.send(new_message("Our offer stands."))
    live = [await defendant.receive_until("message")]
    await record_event(world.joint, world.mediator, "session.started")
    live.append(await defendant.receive_until("event"))
    # Behind the defendant's back: the plaintiff's caucus gets messages and an event.
    for number in range(CAUCUS_MESSAGES):
        await mediator_in_caucus.send(new_message(f"Between us, number {number}"))
        await mediator_in_caucus.receive_until("message")
    await record_event(world.plaintiff_caucus, world.mediator, "session.started")
    await mediator_in_caucus.receive_until("event")
    # In the joint room again: a message and an event.
    retried = str(uuid.uuid4())
    await defendant.send(new_message("We are still waiting.", retried))
    live.append(await defendant.receive_until("message"))
    await record_event(world.joint, world.mediator, "session.ended")
    live.append(await defendant.receive_until("event"))
    assert [frame["seq"] for frame in live] == list(range(first_seq, first_seq + 4))

    # The same entries as the defendant can get them again: resumed, answered to a
    # retry, and from the history API.
    await defendant.send({"type": "resume", "after_seq": first_seq - 1})
    resumed = [await defendant.receive_until(kind) for kind in ("message", "event", "message", "event")]
    await defendant.receive_until("resume.page")
    await defendant.send(new_message("We are still waiting.", retried))
    duplicate = await defendant.receive_until("message", client_id=retried)
    history = [entry for entry in await history_as(world.defendant, world.joint) if entry["seq"] >= first_seq]

    assert_nothing_counts_what_happened_elsewhere("live", live)
    assert_nothing_counts_what_happened_elsewhere("resumed", resumed)
    assert_nothing_counts_what_happened_elsewhere("history", history)
    assert_nothing_counts_what_happened_elsewhere("a retry's answer", [live[0], live[1], duplicate])
    # Every channel names an entry the same way: by its seq in the room.
    assert resumed == live and history == live and duplicate == live[2]
