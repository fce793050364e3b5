"""The ceiling for `benchmarks/rooms.py`: a minimal in-memory broadcast server.

uvicorn (with its default WebSocket implementation, the `websockets` library's
sans-I/O protocol) serving a bare ASGI application that speaks the room protocol's
frames (ARCHITECTURE.md section 5) for what the benchmark does: `hello` on connect,
`presence` on join and leave, and `message.send` answered by a `message` frame with
the room's next `seq`, encoded once and sent to every socket in the room, the sender
included. No database, no authentication, no Redis, no idempotency store: what is
left is the cost of WebSockets, JSON and fan-out in one Python process.

    python benchmarks/_ceiling.py --port 8765
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import uuid

MAX_BODY_CHARS = 4000


def encode(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class Room:
    __slots__ = ("id", "members", "seq")

    def __init__(self, room_id: int):
        self.id = room_id
        self.members: dict[object, int] = {}  # send callable -> user id
        self.seq = 0

    async def broadcast(self, text: str) -> None:
        event = {"type": "websocket.send", "text": text}
        for send in list(self.members):
            try:
                await send(event)
            except Exception:  # the socket went away while we were sending
                self.members.pop(send, None)


rooms: dict[int, Room] = {}
users = itertools.count(1)


def error(code: str, detail: str) -> dict:
    return {"type": "websocket.send", "text": encode({"type": "error", "code": code, "detail": detail})}


async def application(scope, receive, send):
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    parts = scope["path"].strip("/").split("/")
    if len(parts) != 3 or parts[:2] != ["ws", "rooms"] or not parts[2].isdigit():
        await send({"type": "websocket.close", "code": 4404})
        return
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    room_id = int(parts[2])
    room = rooms.get(room_id) or rooms.setdefault(room_id, Room(room_id))
    user_id = next(users)
    me = {"id": user_id, "name": f"User {user_id}", "role": "agent"}
    room.members[send] = user_id
    await send(
        {
            "type": "websocket.send",
            "text": encode(
                {
                    "type": "hello",
                    "room": {"id": room_id, "kind": "joint"},
                    "me": me,
                    "members": [],
                    "last_seq": room.seq,
                    "online": sorted(set(room.members.values())),
                }
            ),
        }
    )
    await room.broadcast(encode({"type": "presence", "online": sorted(set(room.members.values()))}))
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            if event["type"] != "websocket.receive":
                continue
            try:
                frame = json.loads(event.get("text") or "")
            except ValueError:
                await send(error("bad_json", "The frame is not valid JSON."))
                continue
            if not isinstance(frame, dict) or frame.get("type") != "message.send":
                await send(error("unknown_type", "Only message.send is served here."))
                continue
            client_id, body = frame.get("client_id"), frame.get("body")
            try:
                uuid.UUID(client_id)
            except (TypeError, ValueError, AttributeError):
                await send(error("invalid_field", "client_id must be a UUID string."))
                continue
            if not isinstance(body, str) or not body.strip() or len(body) > MAX_BODY_CHARS:
                await send(error("invalid_field", "body must be 1 to 4000 characters."))
                continue
            room.seq += 1
            await room.broadcast(
                encode(
                    {
                        "type": "message",
                        "seq": room.seq,
                        "author": me,
                        "body": body,
                        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
                        "client_id": client_id,
                    }
                )
            )
    finally:
        room.members.pop(send, None)
        await room.broadcast(encode({"type": "presence", "online": sorted(set(room.members.values()))}))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    uvicorn.run(
        application,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # The standard asyncio loop, as under daphne: uvloop is installed for the load
        # generator, and uvicorn would otherwise take it.
        loop="asyncio",
        backlog=4096,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
