import contextlib
import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from rooms.hub import background_settled
from rooms.routing import NOTIFICATIONS_ROUTE, ROOM_ROUTE, notification_socket, room_socket, unknown_path
from rooms.writer import get_writer
from tests.cases import make_case, make_civil_case
from tests.factories import UserFactory

# The server's routes (rooms.routing) without signing in: a test puts the user in the
# scope itself.
router = URLRouter(
    [
        path(ROOM_ROUTE, room_socket),
        path(NOTIFICATIONS_ROUTE, notification_socket),
        unknown_path,
    ]
)


@pytest.fixture
def world(transactional_db):
    return make_civil_case()


@pytest.fixture
def other_world(world):
    return make_case(world.mediator, None, label="B")


@pytest.fixture
def stranger(transactional_db):
    return UserFactory(full_name="Stranger")


class Client:
    """A signed-in socket on one room, as a test sees it."""

    def __init__(self, user, room_id: int):
        self.communicator = WebsocketCommunicator(router, f"/ws/rooms/{room_id}/")
        self.communicator.scope["user"] = user
        self.hello = None

    async def connect(self):
        connected, _ = await self.communicator.connect()
        assert connected
        first = await self.communicator.receive_output(timeout=5)
        if first["type"] == "websocket.close":
            return first["code"]
        self.hello = json.loads(first["text"])
        return None

    async def send(self, frame: dict):
        await self.communicator.send_json_to(frame)

    async def send_text(self, text: str):
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout=3):
        return await self.communicator.receive_json_from(timeout=timeout)

    async def receive_until(self, frame_type: str, timeout=3, **match):
        while True:
            frame = await self.receive(timeout=timeout)
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def receive_close(self, timeout=3):
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def nothing_more(self, timeout=0.3):
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
async def connect():
    clients = []

    async def _connect(user, room):
        client = Client(user, room if isinstance(room, int) else room.pk)
        clients.append(client)
        code = await client.connect()
        return client, code

    yield _connect
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
    await rooms_settled()


async def rooms_settled():
    """Before the tables are emptied. A socket does not wait for its messages to be
    stored, nor the writer for the activity announcements it spawns (a query each):
    emptying the tables while the writer holds a batch's locks, or while a query holds
    one table and waits for the next, could deadlock with them."""
    await get_writer().drained()
    await background_settled()
