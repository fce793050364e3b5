"""Room frames on the wire, built once for all their readers.

A room message goes to every member's socket with the same bytes. Through ASGI each
socket would encode the text to UTF-8 and build the WebSocket frame again, through
four layers of coroutines (Channels' session wrapper, daphne's reply handler, its
protocol, autobahn's framing). Under daphne a room socket instead writes the frame
built once (RFC 6455 section 5.2: a final, unmasked text frame) straight to its TCP
transport, provided the connection is open and uses no extension that would change
the frame (autobahn negotiates permessage-deflate only when asked; daphne never asks).
Anything else (another server, a test's communicator, a closing connection) goes
through ASGI as usual.

The way in has the same shape. A client's frames are masked text frames of a few
hundred bytes, usually one per read. Autobahn parses each through a general state
machine: a frame object, a native unmasker built per frame, a streaming UTF-8
validator, five callbacks. `read_direct` puts a reader in front of it that takes
complete, final, masked text frames within the size limits off the front of what
arrives, unmasks and checks them, and offers each to the room socket, which handles a
message there and then (see RoomSocket.take_frame); a frame it leaves goes to daphne's
`onMessage`, as autobahn would hand it on. Whatever the reader does not take (control
frames, fragments, a frame split over reads, anything invalid or too large,
everything once the connection is no longer open) goes to autobahn unchanged, from
the first byte it did not take, so every refusal and close is autobahn's own.

Twisted's transport buffers every write and sends it once the event loop reports the
socket writable: two epoll_ctl calls, a readiness event and a pass through its write
loop per frame, for a socket that almost always could have taken the frame at once.
When nothing is waiting in that buffer, a plain TCP transport's socket is sent the
frame directly, and only what the kernel does not take goes to the buffer.
"""

from __future__ import annotations

import functools
import logging
import struct
import time

from twisted.internet import tcp

logger = logging.getLogger(__name__)

TEXT_FINAL = 0x81
MASKED = 0x80


def text_frame(payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        header = bytes((TEXT_FINAL, length))
    elif length < 1 << 16:
        header = struct.pack("!BBH", TEXT_FINAL, 126, length)
    else:
        header = struct.pack("!BBQ", TEXT_FINAL, 127, length)
    return header + payload


class Outgoing:
    """A frame's text and, the first time a socket asks, its bytes on the wire."""

    __slots__ = ("_wire", "text")

    def __init__(self, text: str):
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.text.encode("utf-8"))
        return self._wire


def daphne_protocol(send):
    """Daphne's WebSocket protocol under an ASGI `send` (a partial of its reply
    handler, possibly wrapped by Channels' session middleware); None under another
    server."""
    # Channels' session middleware hands on a send of its own, keeping daphne's as
    # `real_send`.
    while not isinstance(send, functools.partial) and hasattr(getattr(send, "__self__", None), "real_send"):
        send = send.__self__.real_send
    protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
    if protocol is None or not hasattr(protocol, "transport") or not hasattr(protocol, "STATE_OPEN"):
        return None
    return protocol


def writes_direct(protocol) -> bool:
    """Whether `write_direct` takes frames for this connection now: it is open and
    uses no extension."""
    return protocol.state == protocol.STATE_OPEN and getattr(protocol, "_perMessageCompress", None) is None


def write_direct(protocol, frame: Outgoing) -> bool:
    """Write the frame to the protocol's transport; False if it must go through ASGI."""
    if not writes_direct(protocol):
        return False
    _write_wire(protocol, frame.wire)
    return True


class Burst:
    """Frames for connections the caller found `writes_direct`, each connection's sent
    in one write when the burst is sent. A stored batch often holds several messages
    for one socket (a busy room, a loaded server), and each write is a system call
    and a wake-up of the reader: under load, the more messages a batch holds, the
    fewer writes each costs."""

    __slots__ = ("_wires",)

    def __init__(self):
        self._wires: dict[object, list[bytes]] = {}

    def add(self, protocol, frame: Outgoing) -> None:
        wires = self._wires.get(protocol)
        if wires is None:
            self._wires[protocol] = [frame.wire]
        else:
            wires.append(frame.wire)

    def send(self) -> None:
        wires_by_protocol, self._wires = self._wires, {}
        for protocol, wires in wires_by_protocol.items():
            try:
                _write_wire(protocol, wires[0] if len(wires) == 1 else b"".join(wires))
            except Exception:
                # One connection failing must not cost the others their frames.
                logger.debug("A write to a closing connection failed", exc_info=True)


def _write_wire(protocol, wire: bytes) -> None:
    transport = protocol.transport
    if _can_send_now(transport):
        try:
            sent = transport.socket.send(wire)
        except BlockingIOError:
            sent = 0
        except OSError:
            # Let Twisted find the broken connection and close it as usual.
            sent = 0
        if sent == len(wire):
            return
        wire = wire[sent:]
    transport.write(wire)


def _can_send_now(transport) -> bool:
    """A plain TCP transport, open for writing, with nothing of an earlier write waiting
    in its buffer (which a frame sent now would overtake)."""
    return (
        type(transport) is tcp.Server
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataLen
        and transport.offset >= len(transport.dataBuffer)
    )


def pending_output(protocol) -> int:
    """Bytes Twisted holds for this client: its write buffer not yet taken by the
    kernel, plus what was written since."""
    transport = protocol.transport
    buffered = getattr(transport, "dataBuffer", b"")
    return len(buffered) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


def read_direct(protocol, take) -> None:
    """Put the fast reader in front of autobahn's for this connection. `take(payload)`
    is offered each text frame first and returns whether it handled it; a frame it
    leaves goes to daphne's `onMessage`."""
    # In place of autobahn's Twisted adapter, which formats a debug record per read
    # before handing the bytes to the same `_dataReceived`.
    protocol.dataReceived = functools.partial(_receive, protocol, protocol._dataReceived, take)


def _receive(protocol, autobahn_receive, take, data: bytes) -> None:
    if protocol.state != protocol.STATE_OPEN or protocol.data or protocol.current_frame is not None:
        autobahn_receive(data)
        return
    texts, taken = take_text_frames(data, _payload_limit(protocol))
    if texts:
        # As daphne's `onMessage` does: a client that talks is not pinged.
        protocol.last_ping = time.time()
    for payload in texts:
        if not take(payload):
            protocol.onMessage(payload, False)
    if taken < len(data):
        autobahn_receive(data[taken:])


def pause_reading(protocol) -> None:
    """Stop reading the client's socket until `resume_reading`. What the client sends
    meanwhile waits in the kernel's buffers and then, by TCP's flow control, in the
    client; nothing is lost."""
    protocol.transport.pauseProducing()


def resume_reading(protocol) -> None:
    protocol.transport.resumeProducing()


def events_waiting(protocol) -> int:
    """Events daphne has queued for the application and it has not yet received."""
    return protocol.application_queue.qsize()


def _payload_limit(protocol) -> int:
    limits = [limit for limit in (protocol.maxFramePayloadSize, protocol.maxMessagePayloadSize) if limit > 0]
    return min(limits, default=1 << 63)


def take_text_frames(data: bytes, limit: int) -> tuple[list[bytes], int]:
    """The payloads of the complete, final, masked, valid UTF-8 text frames of at most
    `limit` bytes at the front of `data`, unmasked, and how many bytes they took."""
    payloads = []
    offset, end = 0, len(data)
    while end - offset >= 6:
        if data[offset] != TEXT_FINAL or not data[offset + 1] & MASKED:
            break
        length = data[offset + 1] & 0x7F
        start = offset + 6
        if length == 126:
            start += 2
            if start > end:
                break
            length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        elif length == 127:
            start += 8
            if start > end:
                break
            length = int.from_bytes(data[offset + 2 : offset + 10], "big")
        stop = start + length
        if length > limit or stop > end:
            break
        mask = data[start - 4 : start]
        masked = int.from_bytes(data[start:stop], "little")
        key = int.from_bytes((mask * (length // 4 + 1))[:length], "little")
        payload = (masked ^ key).to_bytes(length, "little")
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            break
        payloads.append(payload)
        offset = stop
    return payloads, offset
