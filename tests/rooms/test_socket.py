"""The room WebSocket protocol, frame by frame and close code by close code."""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async

from rooms.conf import MAX_BODY_CHARS
from rooms.models import RoomEntry

pytestmark = pytest.mark.django_db(transaction=True)


def new_message(body="Hello", client_id=None):
    return {"type": "message.send", "client_id": str(client_id or uuid.uuid4()), "body": body}


@database_sync_to_async
def stored(room, **filters):
    return list(RoomEntry.objects.filter(room=room, **filters).order_by("seq"))


async def test_hello_describes_the_room_me_and_its_members(world, connect):
    client, code = await connect(world.plaintiff, world.joint)
    assert code is None
    hello = client.hello
    assert hello["type"] == "hello"
    assert hello["room"] == {
        "id": world.joint.pk,
        "kind": "joint",
        "case": {"id": world.case.pk, "number": world.case.number},
        "closed": False,
    }
    assert hello["me"]["id"] == world.plaintiff.pk and hello["me"]["side"] == "plaintiff"
    assert {m["id"] for m in hello["members"]} == {
        world.mediator.pk,
        world.judge.pk,
        world.plaintiff.pk,
        world.defendant.pk,
    }
    # The joined events of both participants are already in the room.
    assert hello["last_seq"] == 2


async def test_not_signed_in_is_closed_with_4401(world):
    from django.contrib.auth.models import AnonymousUser

    from tests.rooms.conftest import Client

    client = Client(AnonymousUser(), world.joint.pk)
    assert await client.connect() == 4401


async def test_no_such_room_is_closed_with_4404(world, connect):
    _client, code = await connect(world.mediator, 999999)
    assert code == 4404


async def test_a_stranger_is_closed_with_4403(world, stranger, connect):
    _client, code = await connect(stranger, world.joint)
    assert code == 4403


async def test_a_party_of_another_case_is_closed_with_4403(world, other_world, connect):
    _client, code = await connect(other_world.plaintiff, world.joint)
    assert code == 4403


async def test_a_closed_room_is_closed_with_4408(world, connect):
    from rooms.services import close_room

    await database_sync_to_async(close_room)(room=world.joint, actor=world.mediator)
    _client, code = await connect(world.plaintiff, world.joint)
    assert code == 4408


async def test_defendant_cannot_join_the_plaintiff_caucus(world, connect):
    _client, code = await connect(world.defendant, world.plaintiff_caucus)
    assert code == 4403


async def test_plaintiff_cannot_join_the_defendant_caucus(world, connect):
    _client, code = await connect(world.plaintiff, world.defendant_caucus)
    assert code == 4403


async def test_the_judge_is_not_in_the_caucus_rooms(world, connect):
    _client, code = await connect(world.judge, world.plaintiff_caucus)
    assert code == 4403


async def test_the_mediator_talks_to_each_side_in_its_caucus(world, connect):
    mediator, _ = await connect(world.mediator, world.plaintiff_caucus)
    plaintiff, _ = await connect(world.plaintiff, world.plaintiff_caucus)
    defendant_joint, _ = await connect(world.defendant, world.joint)
    await mediator.send(new_message("Only for the plaintiff"))
    frame = await plaintiff.receive_until("message")
    assert frame["body"] == "Only for the plaintiff"
    await defendant_joint.nothing_more()
    assert not [e for e in await stored(world.joint) if e.body == "Only for the plaintiff"]


async def test_a_message_is_stored_then_broadcast_to_everyone_with_its_seq(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    defendant, _ = await connect(world.defendant, world.joint)
    client_id = uuid.uuid4()
    await plaintiff.send(new_message("We accept two instalments.", client_id))
    mine = await plaintiff.receive_until("message")
    theirs = await defendant.receive_until("message")
    assert mine == theirs
    assert mine["seq"] == 3 and mine["client_id"] == str(client_id)
    assert mine["author"] == {
        "id": world.plaintiff.pk,
        "name": str(world.plaintiff),
        "role": "agent",
        "side": "plaintiff",
    }
    [entry] = await stored(world.joint, kind="message")
    assert (entry.seq, entry.body) == (mine["seq"], "We accept two instalments.")


async def test_seq_rises_by_exactly_one(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    for index in range(5):
        await plaintiff.send(new_message(f"m{index}"))
    seqs = [(await plaintiff.receive_until("message"))["seq"] for _ in range(5)]
    assert seqs == [3, 4, 5, 6, 7]


async def test_a_retried_client_id_stores_one_message_and_answers_only_the_sender(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    defendant, _ = await connect(world.defendant, world.joint)
    client_id = uuid.uuid4()
    await plaintiff.send(new_message("Once", client_id))
    first = await plaintiff.receive_until("message")
    await defendant.receive_until("message")
    await plaintiff.send(new_message("Once", client_id))
    again = await plaintiff.receive_until("message")
    assert again == first
    await defendant.nothing_more()
    assert len(await stored(world.joint, kind="message")) == 1


async def test_resume_replays_exactly_the_missed_entries_in_order(world, connect):
    defendant, _ = await connect(world.defendant, world.joint)
    last_seen = defendant.hello["last_seq"]
    await defendant.close()
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    for index in range(4):
        await plaintiff.send(new_message(f"while you were away {index}"))
        await plaintiff.receive_until("message")
    back, _ = await connect(world.defendant, world.joint)
    await back.send({"type": "resume", "after_seq": last_seen})
    replayed = [await back.receive_until("message") for _ in range(4)]
    assert [f["body"] for f in replayed] == [f"while you were away {i}" for i in range(4)]
    assert [f["seq"] for f in replayed] == [3, 4, 5, 6]
    page = await back.receive_until("resume.page")
    assert page == {"type": "resume.page", "after_seq": 2, "last_seq": 6, "more": False}


async def test_a_resume_while_the_database_is_away_gets_an_error_and_the_socket_stays(world, connect, monkeypatch):
    from django.db import OperationalError

    from rooms import selectors

    client, _ = await connect(world.plaintiff, world.joint)

    def database_away(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(selectors, "resume_page", database_away)
        await client.send({"type": "resume", "after_seq": 0})
        error = await client.receive_until("error")
    assert error["code"] == "resume_unavailable"
    assert "try again" in error["detail"]
    await client.send({"type": "resume", "after_seq": 0})
    assert (await client.receive_until("resume.page"))["last_seq"] == client.hello["last_seq"]


async def test_resume_includes_system_events(world, connect):
    client, _ = await connect(world.plaintiff, world.joint)
    await client.send({"type": "resume", "after_seq": 0})
    events = [await client.receive_until("event") for _ in range(2)]
    assert [e["kind"] for e in events] == ["participant.joined", "participant.joined"]
    assert events[0]["data"]["side"] == "plaintiff"


async def test_resume_is_paged_after_500(world, connect):
    from rooms.membership import member_of
    from rooms.store import PostRequest, store_messages

    @database_sync_to_async
    def fill():
        author = member_of(world.mediator, world.joint)
        store_messages([PostRequest(world.joint.pk, author, uuid.uuid4(), f"n{i}") for i in range(600)])

    await fill()
    client, _ = await connect(world.plaintiff, world.joint)

    async def page():
        frames = []
        while True:
            frame = await client.receive()
            if frame["type"] == "resume.page":
                return frames, frame
            if frame["type"] in ("message", "event"):
                frames.append(frame)

    await client.send({"type": "resume", "after_seq": 0})
    first_page, marker = await page()
    assert [f["seq"] for f in first_page] == list(range(1, 501))
    assert marker == {"type": "resume.page", "after_seq": 0, "last_seq": 500, "more": True}
    await client.send({"type": "resume", "after_seq": 500})
    second_page, marker = await page()
    assert [f["seq"] for f in second_page] == list(range(501, 603))
    assert marker["more"] is False


async def test_typing_is_relayed_to_the_others(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    defendant, _ = await connect(world.defendant, world.joint)
    await plaintiff.send({"type": "typing", "active": True})
    frame = await defendant.receive_until("typing")
    assert frame == {"type": "typing", "user": {"id": world.plaintiff.pk, "name": str(world.plaintiff)}, "active": True}
    assert not await stored(world.joint, kind="typing")


async def test_read_receipts_are_stored_and_relayed(world, connect):
    from rooms.models import ReadMark

    plaintiff, _ = await connect(world.plaintiff, world.joint)
    defendant, _ = await connect(world.defendant, world.joint)
    await defendant.send({"type": "read", "seq": 2})
    frame = await plaintiff.receive_until("read")
    assert frame == {"type": "read", "user": {"id": world.defendant.pk, "name": str(world.defendant)}, "seq": 2}
    marks = await database_sync_to_async(lambda: list(ReadMark.objects.values_list("user_id", "seq")))()
    assert marks == [(world.defendant.pk, 2)]


async def test_presence_shows_who_is_online(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    assert plaintiff.hello["online"] == [world.plaintiff.pk]
    defendant, _ = await connect(world.defendant, world.joint)
    both = sorted([world.plaintiff.pk, world.defendant.pk])
    await plaintiff.receive_until("presence", online=both)
    await defendant.close()
    await plaintiff.receive_until("presence", online=[world.plaintiff.pk])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"no": "type"}', "missing_field"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message.send", "body": "x"}', "missing_field"),
        ('{"type": "message.send", "client_id": "nope", "body": "x"}', "invalid_field"),
        (
            '{"type": "message.send", "client_id": "6f1c2a52-2d4e-4a52-9c55-0d7c1d2c3b4a", "body": "   "}',
            "invalid_field",
        ),
        ('{"type": "resume"}', "missing_field"),
        ('{"type": "resume", "after_seq": "3"}', "invalid_field"),
        ('{"type": "resume", "after_seq": -1}', "invalid_field"),
        ('{"type": "resume", "after_seq": true}', "invalid_field"),
        ('{"type": "typing", "active": "yes"}', "invalid_field"),
        ('{"type": "read"}', "missing_field"),
    ],
)
async def test_a_malformed_frame_gets_an_error_and_the_connection_stays_open(world, connect, text, code):
    client, _ = await connect(world.plaintiff, world.joint)
    await client.send_text(text)
    frame = await client.receive_until("error")
    assert frame["code"] == code and frame["detail"]
    await client.send(new_message("still here"))
    assert (await client.receive_until("message"))["body"] == "still here"
    assert len(await stored(world.joint, kind="message")) == 1


async def test_a_body_over_4000_characters_is_refused_and_not_stored(world, connect):
    client, _ = await connect(world.plaintiff, world.joint)
    await client.send(new_message("字" * (MAX_BODY_CHARS + 1)))
    assert (await client.receive_until("error"))["code"] == "body_too_long"
    await client.send(new_message("字" * MAX_BODY_CHARS))
    assert len((await client.receive_until("message"))["body"]) == MAX_BODY_CHARS


async def test_a_binary_frame_gets_an_error(world, connect):
    client, _ = await connect(world.plaintiff, world.joint)
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive_until("error"))["code"] == "bad_frame"


async def test_more_than_20_messages_in_10_seconds_are_refused_and_not_stored(world, connect):
    client, _ = await connect(world.plaintiff, world.joint)
    for index in range(21):
        await client.send(new_message(f"spam {index}"))
    # The refusal is answered at once, before the stored messages come back.
    messages, errors = [], []
    while len(messages) < 20 or not errors:
        frame = await client.receive()
        {"message": messages, "error": errors}.get(frame["type"], []).append(frame)
    assert [error["code"] for error in errors] == ["rate_limited"]
    assert [message["body"] for message in messages] == [f"spam {index}" for index in range(20)]
    assert len(await stored(world.joint, kind="message")) == 20


async def test_a_muted_participant_can_read_but_not_post(world, connect):
    from rooms.services import mute_participant

    await database_sync_to_async(mute_participant)(room=world.joint, actor=world.mediator, user=world.defendant)
    defendant, _ = await connect(world.defendant, world.joint)
    await defendant.send(new_message("let me speak"))
    assert (await defendant.receive_until("error"))["code"] == "muted"
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    await plaintiff.send(new_message("hello"))
    assert (await defendant.receive_until("message"))["body"] == "hello"
    assert [e.body for e in await stored(world.joint, kind="message")] == ["hello"]


async def test_a_removed_participant_is_disconnected_at_once_and_cannot_come_back(world, connect):
    from mediation.services.cases import remove_participant

    defendant, _ = await connect(world.defendant, world.joint)
    caucus, _ = await connect(world.defendant, world.defendant_caucus)
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    await database_sync_to_async(remove_participant)(
        participant=world.defendant_participant, actor=world.mediator, reason="Replaced by a new lawyer"
    )
    assert await defendant.receive_close() == 4403
    assert await caucus.receive_close() == 4403
    left = await plaintiff.receive_until("event", kind="participant.left")
    assert left["data"]["user"]["id"] == world.defendant.pk
    _again, code = await connect(world.defendant, world.joint)
    assert code == 4403


async def test_closing_a_room_disconnects_everyone_with_4408_and_reopening_lets_them_back(world, connect):
    from rooms.services import close_room, reopen_room

    plaintiff, _ = await connect(world.plaintiff, world.joint)
    mediator, _ = await connect(world.mediator, world.joint)
    await database_sync_to_async(close_room)(room=world.joint, actor=world.mediator)
    assert await plaintiff.receive_close() == 4408
    assert await mediator.receive_close() == 4408
    await database_sync_to_async(reopen_room)(room=world.joint, actor=world.mediator)
    _again, code = await connect(world.plaintiff, world.joint)
    assert code is None


async def test_system_events_posted_by_services_reach_the_room_live(world, connect):
    import datetime as dt

    from django.utils import timezone

    from mediation.services.sessions import schedule_session, start_session

    client, _ = await connect(world.plaintiff, world.joint)

    @database_sync_to_async
    def start():
        session = schedule_session(
            case=world.case, actor=world.mediator, starts_at=timezone.now() + dt.timedelta(hours=1)
        )
        start_session(session=session, actor=world.mediator)

    await start()
    kinds = []
    while "session.started" not in kinds:
        kinds.append((await client.receive_until("event"))["kind"])
    assert kinds == ["case.status", "session.started"]


async def test_a_participant_removed_while_their_socket_enters_is_refused_before_any_frame(world, connect, monkeypatch):
    """The removal commits, and its revoke goes out, after the socket was let in but
    before it joined the hub, where the revoke would have reached it."""
    from mediation.services.cases import remove_participant
    from rooms.hub import RoomHub

    enter = RoomHub.enter

    async def removed_before_joining(hub, socket):
        await database_sync_to_async(remove_participant)(
            participant=world.defendant_participant, actor=world.mediator, reason="Replaced by a new lawyer"
        )
        await asyncio.sleep(0.1)
        await enter(hub, socket)

    monkeypatch.setattr(RoomHub, "enter", removed_before_joining)
    defendant, code = await connect(world.defendant, world.joint)
    assert (code, defendant.hello) == (4403, None)


async def test_a_message_first_stored_but_never_published_reaches_the_room_when_its_sender_resends(world, connect):
    """Its process was killed between the commit and the publish: the client resends it
    through another process and gets it back as a duplicate; the others get it too."""
    from rooms.membership import member_of
    from rooms.store import PostRequest, store_messages

    defendant, _ = await connect(world.defendant, world.joint)
    client_id = uuid.uuid4()

    @database_sync_to_async
    def store_without_publishing():
        author = member_of(world.plaintiff, world.joint)
        return store_messages([PostRequest(world.joint.pk, author, client_id, "I accept.")])

    [first] = await store_without_publishing()
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    await plaintiff.send(new_message("I accept.", client_id))
    assert (await plaintiff.receive_until("message"))["seq"] == first.seq
    theirs = await defendant.receive_until("message")
    assert (theirs["seq"], theirs["body"], theirs["client_id"]) == (first.seq, "I accept.", str(client_id))
    assert len(await stored(world.joint, kind="message")) == 1


async def test_with_presence_unreachable_a_socket_still_enters_and_sees_itself_online(world, connect, monkeypatch):
    from rooms.presence import MemoryPresence, RedisPresence

    async def unreachable(presence, *args):
        raise ConnectionError("Redis is away")

    for presence in (MemoryPresence, RedisPresence):
        monkeypatch.setattr(presence, "arrive", unreachable)
        monkeypatch.setattr(presence, "online", unreachable)
        monkeypatch.setattr(presence, "online_in", unreachable)
    plaintiff, code = await connect(world.plaintiff, world.joint)
    assert code is None
    assert plaintiff.hello["online"] == [world.plaintiff.pk]
