"""A WebRTC publisher for the tests (aiortc): joins a media room's VideoRoom on Janus as
the media socket would let a browser (with the room's join token and the display the
platform sets) and publishes a synthetic camera and microphone."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from contextlib import contextmanager

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from websockets.asyncio.client import connect

from rooms.media.janus import PROTOCOL, VIDEOROOM
from rooms.media.secrets import janus_api_secret


class _Client:
    def __init__(self, websocket):
        self.websocket = websocket
        self.session_id = None
        self.handle_id = None

    async def request(self, message: dict, *, wait_event: bool = False) -> dict:
        transaction = secrets.token_hex(8)
        message = {**message, "transaction": transaction, "apisecret": janus_api_secret()}
        if self.session_id is not None:
            message.setdefault("session_id", self.session_id)
        if self.handle_id is not None and message["janus"] in ("message", "trickle"):
            message.setdefault("handle_id", self.handle_id)
        await self.websocket.send(json.dumps(message))
        while True:
            answer = json.loads(await asyncio.wait_for(self.websocket.recv(), 10))
            if answer.get("transaction") != transaction:
                continue
            if answer.get("janus") == "ack" and wait_event:
                continue
            if answer.get("janus") == "error":
                raise RuntimeError(answer)
            return answer


async def _publish(url: str, janus_room: int, token: str, display: dict, joined: threading.Event, stop: asyncio.Event):
    async with connect(url, subprotocols=[PROTOCOL]) as websocket:
        client = _Client(websocket)
        client.session_id = (await client.request({"janus": "create"}))["data"]["id"]
        client.handle_id = (await client.request({"janus": "attach", "plugin": VIDEOROOM}))["data"]["id"]
        await client.request(
            {
                "janus": "message",
                "body": {
                    "request": "join",
                    "ptype": "publisher",
                    "room": janus_room,
                    "token": token,
                    "display": json.dumps(display),
                },
            },
            wait_event=True,
        )
        peer = RTCPeerConnection()
        peer.addTrack(AudioStreamTrack())
        peer.addTrack(VideoStreamTrack())
        await peer.setLocalDescription(await peer.createOffer())
        answer = await client.request(
            {
                "janus": "message",
                "body": {"request": "publish", "audio": True, "video": True},
                "jsep": {"type": "offer", "sdp": peer.localDescription.sdp},
            },
            wait_event=True,
        )
        await peer.setRemoteDescription(RTCSessionDescription(**answer["jsep"]))
        for _ in range(200):
            if peer.connectionState == "connected":
                break
            await asyncio.sleep(0.02)
        joined.set()
        await stop.wait()
        await peer.close()
        await client.request({"janus": "destroy"})


@contextmanager
def publishing(url: str, janus_room: int, token: str, user):
    """Publish as `user` in the VideoRoom until the block ends."""
    display = {"id": user.pk, "name": str(user), "role": "party", "side": None}
    joined = threading.Event()
    loop = asyncio.new_event_loop()
    stop = None
    failure = []

    def run():
        nonlocal stop
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        try:
            loop.run_until_complete(_publish(url, janus_room, token, display, joined, stop))
        except Exception as error:
            failure.append(error)
            joined.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not joined.wait(15) or failure:
        raise RuntimeError(f"could not publish: {failure}")
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
