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

Twisted's transport buffers every write and sends it once the event loop reports the
socket writable: two epoll_ctl calls, a readiness event and a pass through its write
loop per frame, for a socket that almost always could have taken the frame at once.
When nothing is waiting in that buffer, a plain TCP transport's socket is sent the
frame directly, and only what the kernel does not take goes to the buffer.
"""

from __future__ import annotations

import functools
import struct

from twisted.internet import tcp

TEXT_FINAL = 0x81


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


def write_direct(protocol, frame: Outgoing) -> bool:
    """Write the frame to the protocol's transport; False if it must go through ASGI."""
    if protocol.state != protocol.STATE_OPEN or getattr(protocol, "_perMessageCompress", None) is not None:
        return False
    transport = protocol.transport
    wire = frame.wire
    if _can_send_now(transport):
        try:
            sent = transport.socket.send(wire)
        except BlockingIOError:
            sent = 0
        except OSError:
            # Let Twisted find the broken connection and close it as usual.
            sent = 0
        if sent == len(wire):
            return True
        wire = wire[sent:]
    transport.write(wire)
    return True


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
