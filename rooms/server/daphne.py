"""The one module that knows daphne's, autobahn's and Twisted's internals.

Room frames on the wire, built once for all their readers.
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

This module is the only one that knows daphne's, autobahn's and Twisted's internals;
the rest of the platform asks it. Besides the room sockets' fast path, it holds the
two patches daphne gets at start-up (from config.asgi): WebSocket failures closed
with a code (`close_failed_websockets_with_a_code`) and request bodies bounded while
they arrive (`bound_request_bodies`, checked against `HTTP_INTERNALS` first). Those
are private attributes that no version range protects, so the first socket a process
opens is checked for every attribute the fast path uses (`FastPath.engage`). If one
is missing, the process logs one ERROR and serves every socket through plain ASGI, as
under any other server. If a direct write fails anyway, the fast path is turned off
for the process, logged at ERROR, and that socket is closed with 1011 so that its
client resumes from the last `seq` it has: a failed write never passes for a
delivered frame. docs/rooms-internals.md has the upgrade checklist.
"""

from __future__ import annotations

import functools
import logging
import struct
import time
from importlib.metadata import PackageNotFoundError, version

from twisted.internet import tcp

logger = logging.getLogger(__name__)

# What the fast path reads or calls on daphne's protocol (autobahn's WebSocket server
# protocol with daphne's additions) and on its Twisted transport.
PROTOCOL_INTERNALS = (
    "state",
    "STATE_OPEN",
    "transport",
    "data",
    "current_frame",
    "inside_message",
    "_perMessageCompress",
    "_dataReceived",
    "maxFramePayloadSize",
    "maxMessagePayloadSize",
    "onMessage",
    "last_ping",
    "application_queue",
)
TRANSPORT_INTERNALS = (
    "socket",
    "connected",
    "disconnecting",
    "_writeDisconnected",
    "_tempDataLen",
    "offset",
    "dataBuffer",
    "write",
    "pauseProducing",
    "resumeProducing",
)


class WriteFailed(Exception):
    """A direct write raised: the frame may not have reached the client."""


class FastPath:
    """Whether this process writes and reads room frames directly. Process-wide: a
    missing attribute or a failed write turns it off for every later socket."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.enabled = True
        self.checked = False

    def engage(self, send):
        """Daphne's protocol under this socket's ASGI `send`, checked, if the fast path
        may serve it; None to serve it through plain ASGI."""
        if not self.enabled:
            return None
        protocol = _daphne_protocol(send)
        if protocol is None:
            return None
        if not self.checked:
            self.checked = True
            missing = missing_internals(protocol)
            if missing:
                self.enabled = False
                logger.error(
                    "Room sockets go through plain ASGI: the installed %s lack %s, which the direct path uses "
                    "(see docs/rooms-internals.md, upgrading daphne, autobahn or Twisted)",
                    _versions(),
                    ", ".join(missing),
                )
                return None
            logger.info("Room sockets read and write frames directly (%s)", _versions())
        return protocol

    def failed(self, error: BaseException) -> None:
        if self.enabled:
            self.enabled = False
            logger.error(
                "A direct write to a room socket failed; this process now serves room sockets through plain ASGI (%s)",
                _versions(),
                exc_info=error,
            )


FAST_PATH = FastPath()


def missing_internals(protocol) -> list[str]:
    """The attributes the fast path uses that this connection's objects lack."""
    missing = [f"protocol.{name}" for name in PROTOCOL_INTERNALS if not hasattr(protocol, name)]
    transport = getattr(protocol, "transport", None)
    if transport is not None:
        missing += [f"transport.{name}" for name in TRANSPORT_INTERNALS if not hasattr(transport, name)]
    return missing


def _versions() -> str:
    found = []
    for package in ("daphne", "autobahn", "twisted"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


def close_failed_websockets_with_a_code() -> None:
    """Daphne leaves autobahn's `failByDrop` on, so a text frame that is not UTF-8 or
    a message over `--websocket-max-message-size` drops the TCP connection without a
    close frame: the client sees only 1006, an unexplained network failure, reconnects
    and may send the same again. With it off the server fails the connection as RFC
    6455 section 7.1.7 asks, with a close frame: 1007 (invalid payload) or 1009
    (message too big). Called by config.asgi before daphne builds its factory."""
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # another server: nothing to change
        return
    if getattr(WebSocketFactory, "sends_close_codes", False):
        return
    original_init = WebSocketFactory.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = __init__
    WebSocketFactory.sends_close_codes = True


# What `bound_request_bodies` overrides or calls on daphne's HTTP classes and
# Twisted's Request, checked before anything is patched.
HTTP_INTERNALS = (
    "HTTPFactory.buildProtocol",
    "WebRequest.gotLength",
    "WebRequest.handleContentChunk",
    "WebRequest.requestReceived",
    "Request.__init__(parsePOSTFormSubmission)",
)


def missing_http_internals(http_factory, web_request, request) -> list[str]:
    """The parts of daphne's HTTPFactory and WebRequest and Twisted's Request that
    `bound_request_bodies` uses and these classes lack."""
    import inspect

    owners = {"HTTPFactory": http_factory, "WebRequest": web_request}
    missing = []
    for name in HTTP_INTERNALS:
        owner, _, attribute = name.partition(".")
        if owner in owners and not hasattr(owners[owner], attribute):
            missing.append(name)
    try:
        parameters = inspect.signature(request.__init__).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "parsePOSTFormSubmission" not in parameters:
        missing.append("Request.__init__(parsePOSTFormSubmission)")
    return missing


def bound_request_bodies() -> None:
    """Have daphne stop reading a request body past the largest cap of all (see
    config.body_limit, whose ASGI wrapper then applies each path's own cap), and build
    its requests without Twisted parsing their bodies into memory. Called by
    config.asgi at start-up. If daphne's or Twisted's classes lack what this uses, it
    logs one ERROR and patches nothing: the ASGI wrapper alone applies."""
    try:
        from daphne.http_protocol import HTTPFactory, WebRequest
    except ImportError:  # another server: config.body_limit alone applies
        return
    if getattr(HTTPFactory, "bounds_request_bodies", False):
        return
    from twisted.web.http import Request

    from config.body_limit import largest_body_limit, refusal_text

    missing = missing_http_internals(HTTPFactory, WebRequest, Request)
    if missing:
        logger.error(
            "daphne's request bodies are not bounded while they arrive: the installed %s lack %s "
            "(config.body_limit still refuses them before Django reads them; see docs/rooms-internals.md)",
            _versions(),
            ", ".join(missing),
        )
        return

    class BoundedWebRequest(WebRequest):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("parsePOSTFormSubmission", False)
            self._body_received = 0
            self._body_refused = False
            super().__init__(*args, **kwargs)

        def gotLength(self, length):
            super().gotLength(length)
            if length is not None and length > largest_body_limit():
                self._refuse_body()

        def handleContentChunk(self, data):
            if self._body_refused:
                return
            self._body_received += len(data)
            if self._body_received > largest_body_limit():
                self._refuse_body()
                return
            super().handleContentChunk(data)

        def requestReceived(self, command, path, version):
            if not self._body_refused:
                super().requestReceived(command, path, version)

        def _refuse_body(self):
            self._body_refused = True
            languages = self.requestHeaders.getRawHeaders(b"accept-language") or [b""]
            body = refusal_text(largest_body_limit(), languages[0].decode("latin-1")).encode()
            self.channel.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.channel.transport.loseConnection()

    original_build = HTTPFactory.buildProtocol

    def buildProtocol(self, addr):
        protocol = original_build(self, addr)
        if protocol is not None and protocol.requestFactory is WebRequest:
            protocol.requestFactory = BoundedWebRequest
        elif protocol is not None and protocol.requestFactory is not BoundedWebRequest:
            logger.error("daphne builds %r requests: request bodies are not bounded", protocol.requestFactory)
        return protocol

    HTTPFactory.buildProtocol = buildProtocol
    HTTPFactory.bounds_request_bodies = True


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


def _daphne_protocol(send):
    """Daphne's WebSocket protocol under an ASGI `send` (a partial of its reply
    handler); None under another server or a test's communicator."""
    protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
    if protocol is None or not hasattr(protocol, "transport") or not hasattr(protocol, "STATE_OPEN"):
        return None
    return protocol


def writes_direct(protocol) -> bool:
    """Whether `write_direct` takes frames for this connection now: it is open and
    uses no extension."""
    return (
        FAST_PATH.enabled
        and protocol.state == protocol.STATE_OPEN
        and getattr(protocol, "_perMessageCompress", None) is None
    )


def write_direct(protocol, frame: Outgoing) -> bool:
    """Write the frame to the protocol's transport; False if it must go through ASGI.
    Raises WriteFailed (the fast path now off) if the write raised."""
    if not writes_direct(protocol):
        return False
    try:
        _write_wire(protocol, frame.wire)
    except Exception as error:
        FAST_PATH.failed(error)
        raise WriteFailed from error
    return True


class Burst:
    """Frames for connections the caller found `writes_direct`, each connection's sent
    in one write when the burst is sent. A stored batch often holds several messages
    for one socket (a busy room, a loaded server), and each write is a system call
    and a wake-up of the reader: under load, the more messages a batch holds, the
    fewer writes each costs."""

    __slots__ = ("_wires",)

    def __init__(self):
        # protocol -> [its socket, its delivered seq before this burst, its frames' wires]
        self._wires: dict[object, list] = {}

    def add(self, socket, protocol, frame: Outgoing, seq_before: int) -> None:
        entry = self._wires.get(protocol)
        if entry is None:
            self._wires[protocol] = [socket, seq_before, frame.wire]
        else:
            entry.append(frame.wire)

    def send(self) -> None:
        """Write each connection's frames. A connection whose write raises gets its
        socket's `write_failed` (with the seq it had before this burst), once the fast
        path is off; the others still get their frames."""
        entries, self._wires = self._wires, {}
        for protocol, (socket, seq_before, *wires) in entries.items():
            try:
                _write_wire(protocol, wires[0] if len(wires) == 1 else b"".join(wires))
            except Exception as error:
                FAST_PATH.failed(error)
                socket.write_failed(seq_before)


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
    # Autobahn's own, for everything while it holds part of a frame, is inside a
    # fragmented message (a text frame between its fragments must fail the connection,
    # RFC 6455 section 5.4), or the connection is not open.
    if (
        protocol.state != protocol.STATE_OPEN
        or protocol.data
        or protocol.current_frame is not None
        or protocol.inside_message
        or not FAST_PATH.enabled
    ):
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
