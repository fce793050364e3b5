"""The media benchmark's subscribers (`benchmarks/media.py`): aiortc peers, each with
its own socket and Janus session, subscribing to one feed, in worker processes that
answer the benchmark's commands over a pipe. They decode nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
import time

PROTOCOL = "janus-protocol"
# A subscriber that has not seen a key frame by then has failed to join.
JOIN_TIMEOUT_SECONDS = 15.0
REQUEST_TIMEOUT_SECONDS = 10.0
KEEPALIVE_SECONDS = 20.0


class FirstKeyFrame:
    """Stands in for aiortc's decoder in the subscribers: decodes nothing, and passes
    the first complete VP8 key frame (the P bit of its first byte clear) to the track,
    which is how a subscriber learns that it could show the picture. Until then a
    delta frame fails as it would in a real decoder (no reference frame yet), so aiortc
    asks the publisher for a key frame (PLI), as a browser does."""

    def __init__(self, kind: str):
        self.waiting = kind == "video"

    def decode(self, encoded_frame) -> list:
        if not self.waiting:
            return []
        data = encoded_frame.data
        if data and not data[0] & 0x01:
            self.waiting = False
            return [encoded_frame]
        import av

        raise av.error.InvalidDataError(1094995529, "no key frame yet")


def _no_decoding() -> None:
    """aiortc decodes every frame it receives in a thread per track; a benchmark of 40
    subscribers on one core must not, so its receivers get FirstKeyFrame instead. The
    only place this benchmark touches aiortc's insides; checked, and loud if it moved."""
    import aiortc.rtcrtpreceiver

    if not callable(getattr(aiortc.rtcrtpreceiver, "get_decoder", None)):
        raise RuntimeError(f"aiortc {aiortc.__version__} has no rtcrtpreceiver.get_decoder: update benchmarks/media.py")
    aiortc.rtcrtpreceiver.get_decoder = lambda codec: FirstKeyFrame(codec.mimeType.split("/")[0].lower())
    # Its warning for each frame that could not be decoded (FirstKeyFrame's, until the
    # key frame) says nothing here.
    logging.getLogger("aiortc.rtcrtpreceiver").setLevel(logging.ERROR)


# Header extensions for the receiver's bandwidth estimate: aiortc computes it in Python
# for every packet (a browser does it in C++); the subscribers here decline them.
ESTIMATION_EXTENSIONS = ("abs-send-time", "transport-wide-cc")


def without_estimation(sdp: str) -> str:
    return "".join(
        line
        for line in sdp.splitlines(keepends=True)
        if not (line.startswith("a=extmap:") and any(name in line for name in ESTIMATION_EXTENSIONS))
    )


class JanusFailure(Exception):
    pass


class JanusClient:
    """One WebSocket to Janus with a session and a VideoRoom handle, as a browser has."""

    def __init__(self, websocket, apisecret: str):
        self.websocket = websocket
        self.apisecret = apisecret
        self.session_id = None
        self.handle_id = None
        self.waiting: dict[str, asyncio.Future] = {}
        self.reader = asyncio.ensure_future(self._read())
        self.keepalive = None

    async def _read(self) -> None:
        async for text in self.websocket:
            message = json.loads(text)
            if message.get("janus") == "ack":
                continue
            future = self.waiting.pop(message.get("transaction"), None)
            if future is not None and not future.done():
                future.set_result(message)

    async def _send(self, message: dict) -> None:
        message = {**message, "apisecret": self.apisecret}
        if self.session_id is not None:
            message["session_id"] = self.session_id
        await self.websocket.send(json.dumps(message))

    async def request(self, message: dict) -> dict:
        transaction = secrets.token_hex(6)
        future = asyncio.get_running_loop().create_future()
        self.waiting[transaction] = future
        await self._send({**message, "transaction": transaction})
        answer = await asyncio.wait_for(future, REQUEST_TIMEOUT_SECONDS)
        if answer.get("janus") == "error":
            raise JanusFailure(answer.get("error"))
        return answer

    async def attach(self) -> None:
        self.session_id = (await self.request({"janus": "create"}))["data"]["id"]
        self.handle_id = (await self.request({"janus": "attach", "plugin": "janus.plugin.videoroom"}))["data"]["id"]
        self.keepalive = asyncio.ensure_future(self._keep_alive())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            await self._send({"janus": "keepalive", "transaction": secrets.token_hex(6)})

    async def message(self, body: dict, jsep: dict | None = None) -> dict:
        request = {"janus": "message", "handle_id": self.handle_id, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.request(request)
        data = (answer.get("plugindata") or {}).get("data") or {}
        if "error_code" in data:
            raise JanusFailure(f"{data['error_code']}: {data.get('error')}")
        return answer

    async def close(self) -> None:
        if self.keepalive is not None:
            self.keepalive.cancel()
        # Leaving anyway: Janus ends the session itself once its socket closes.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.request({"janus": "destroy"}), 2)
        self.reader.cancel()
        await self.websocket.close()


class Subscriber:
    def __init__(self, job: dict):
        self.job = job
        self.client: JanusClient | None = None
        self.connection = None
        self.tasks: set[asyncio.Task] = set()

    async def join(self) -> float:
        """Subscribe to the publisher's feed; the seconds from opening the socket to the
        first key frame."""
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
        from websockets.asyncio.client import connect

        job = self.job
        started = time.monotonic()
        websocket = await connect(job["url"], subprotocols=[PROTOCOL], max_size=2**22)
        self.client = JanusClient(websocket, job["apisecret"])
        await self.client.attach()
        # No ICE servers: aiortc would otherwise ask a public STUN server.
        self.connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        first_frame = asyncio.get_running_loop().create_future()

        @self.connection.on("track")
        def on_track(track):
            if track.kind == "video":
                task = asyncio.ensure_future(self._first_frame(track, first_frame))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

        answer = await self.client.message(
            {
                "request": "join",
                "ptype": "subscriber",
                "room": job["room"],
                "token": job["token"],
                "streams": [{"feed": job["feed"]}],
            }
        )
        offer = RTCSessionDescription(sdp=without_estimation(answer["jsep"]["sdp"]), type="offer")
        await self.connection.setRemoteDescription(offer)
        vp8 = [codec for codec in RTCRtpReceiver.getCapabilities("video").codecs if codec.mimeType == "video/VP8"]
        for transceiver in self.connection.getTransceivers():
            if transceiver.kind == "video":
                # VP8 without RTX: every packet counted once, on its own stream.
                transceiver.setCodecPreferences(vp8)
        await self.connection.setLocalDescription(await self.connection.createAnswer())
        local = self.connection.localDescription
        await self.client.message({"request": "start"}, jsep={"type": local.type, "sdp": local.sdp})
        await asyncio.wait_for(first_frame, JOIN_TIMEOUT_SECONDS)
        return time.monotonic() - started

    @staticmethod
    async def _first_frame(track, first_frame: asyncio.Future) -> None:
        await track.recv()
        if not first_frame.done():
            first_frame.set_result(True)

    async def packets(self) -> dict:
        """{kind: [received, lost]} so far."""
        totals = {"audio": [0, 0], "video": [0, 0]}
        if self.connection is None:
            return totals
        for receiver in self.connection.getReceivers():
            for stats in (await receiver.getStats()).values():
                if stats.type == "inbound-rtp" and stats.kind in totals:
                    totals[stats.kind][0] += stats.packetsReceived
                    totals[stats.kind][1] += stats.packetsLost
        return totals

    async def leave(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self.client is not None:
            await self.client.close()


def _one_line(loop, context: dict) -> None:
    """An error in a callback (aioice has failed on a malformed STUN datagram) in one
    line, not a traceback in the middle of the figures."""
    error = context.get("exception")
    print(f"subscriber worker: {context.get('message')}: {error!r}", file=sys.stderr, flush=True)


async def _run_worker(pipe, job: dict) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_one_line)
    subscribers = [Subscriber(job) for _ in range(job["count"])]

    async def join(index: int, subscriber: Subscriber):
        await asyncio.sleep(job["delays"][index])
        try:
            return await subscriber.join()
        except Exception as error:  # reported as a failed join
            return f"{error.__class__.__name__}: {error}"

    joins = await asyncio.gather(*(join(index, subscriber) for index, subscriber in enumerate(subscribers)))
    pipe.send(("joined", joins))
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "packets":
            pipe.send(("packets", [await subscriber.packets() for subscriber in subscribers]))
        elif command == "leave":
            await asyncio.gather(*(subscriber.leave() for subscriber in subscribers), return_exceptions=True)
            pipe.send(("left", None))
            return


def subscriber_worker(pipe, job: dict) -> None:
    """A worker process: job["count"] subscribers, answering the controller's commands."""
    _no_decoding()
    asyncio.run(_run_worker(pipe, job))
