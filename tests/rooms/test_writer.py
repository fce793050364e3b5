"""A writer that falls behind the database has the process stop reading its room
sockets, rather than take in messages only to refuse them, and has them read again
once it has caught up: nothing is refused, nothing is lost."""

import asyncio
import uuid

import pytest

from rooms import writer as writer_module
from rooms.conf import MAX_BATCH, PAUSE_READING_AT, RESUME_READING_AT
from rooms.consumers import RoomSocket
from rooms.hub import RoomHub
from rooms.membership import Member
from rooms.store import PostRequest, PostResult
from rooms.writer import MessageWriter


class FakeSocket:
    """A room socket as the hub sees it, recording whether it reads."""

    def __init__(self, room_id: int, user_id: int):
        self.room_id = room_id
        self.case_id = 1
        self.user_id = user_id
        self.presence_member = f"{user_id}:test:{room_id}"
        self.reading = True

    def deliver_now(self, frame, seq, burst) -> bool:
        return True

    async def deliver(self, frame, seq) -> None:
        pass

    async def control(self, message) -> None:
        pass

    async def catch_up(self) -> None:
        pass

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


class Database:
    """Stores every batch the writer hands it, once `open` is set."""

    def __init__(self):
        self.open = asyncio.Event()
        self.batches_begun = 0
        self.batches: list[int] = []

    async def write(self, batch) -> None:
        self.batches_begun += 1
        await self.open.wait()
        self.batches.append(len(batch))
        for _request, reply in batch:
            reply(PostResult("stored"))


@pytest.fixture
async def hub(monkeypatch):
    hub = RoomHub()
    monkeypatch.setattr(writer_module, "get_hub", lambda: hub)
    return hub


@pytest.fixture
def database(monkeypatch):
    database = Database()
    monkeypatch.setattr(MessageWriter, "_write", database.write)
    return database


def post(writer: MessageWriter, count: int, answers: list) -> None:
    author = Member(id=7, name="Party", role="party")
    for _ in range(count):
        writer.post(PostRequest(room_id=1, author=author, client_id=uuid.uuid4(), body="hello"), answers.append)


async def until(condition, timeout=3.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def test_a_writer_behind_the_database_stops_the_sockets_reading_until_it_has_caught_up(hub, database):
    sockets = [FakeSocket(room_id=1, user_id=user_id) for user_id in (1, 2)]
    for socket in sockets:
        await hub.join(socket)
    writer, answers = MessageWriter(), []

    post(writer, PAUSE_READING_AT - 1, answers)
    assert all(socket.reading for socket in sockets)

    post(writer, 1, answers)
    assert not any(socket.reading for socket in sockets)
    latecomer = FakeSocket(room_id=2, user_id=3)
    await hub.join(latecomer)
    assert not latecomer.reading

    # The first batch is taken, and what is left is still more than the writer resumes at.
    await until(lambda: database.batches_begun == 1)
    assert PAUSE_READING_AT - MAX_BATCH > RESUME_READING_AT
    assert not any(socket.reading for socket in [*sockets, latecomer])

    database.open.set()
    await writer.drained()

    assert all(socket.reading for socket in [*sockets, latecomer])
    assert sum(database.batches) == PAUSE_READING_AT
    assert {answer.outcome for answer in answers} == {"stored"}
    assert len(answers) == PAUSE_READING_AT


async def test_the_sockets_read_again_while_the_writer_stores_its_last_batch_of_the_backlog(hub, database):
    socket = FakeSocket(room_id=1, user_id=1)
    await hub.join(socket)
    writer, answers = MessageWriter(), []
    post(writer, PAUSE_READING_AT, answers)
    resumed_with_unstored = []
    original_resume = socket.resume_reading

    def resume_reading():
        resumed_with_unstored.append(PAUSE_READING_AT - len(answers))
        original_resume()

    socket.resume_reading = resume_reading
    database.open.set()
    await writer.drained()

    # Resumed once, when the batch being taken left no more than RESUME_READING_AT.
    assert len(resumed_with_unstored) == 1
    assert 0 < resumed_with_unstored[0] <= RESUME_READING_AT + MAX_BATCH
    assert socket.reading


class FakeTransport:
    def __init__(self):
        self.calls = []

    def pauseProducing(self):
        self.calls.append("pause")

    def resumeProducing(self):
        self.calls.append("resume")


class DaphneLikeProtocol:
    def __init__(self):
        self.transport = FakeTransport()


def test_a_room_socket_under_daphne_pauses_and_resumes_its_transport():
    socket = RoomSocket({"type": "websocket"}, None, None)
    socket._protocol = DaphneLikeProtocol()

    socket.pause_reading()
    socket.resume_reading()

    assert socket._protocol.transport.calls == ["pause", "resume"]
