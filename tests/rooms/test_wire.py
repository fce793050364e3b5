"""Frames written straight to daphne's transport must be exactly what a WebSocket
library would send: any byte wrong and every client drops the connection."""

import pytest
from websockets.frames import Frame, Opcode

from rooms.server.daphne import Outgoing, read_direct, take_text_frames, text_frame


@pytest.mark.parametrize("length", [0, 1, 125, 126, 4000 * 4, 65535, 65536, 200_000])
def test_a_text_frame_is_byte_for_byte_what_a_websocket_library_sends(length):
    payload = ("字" * (length // 3) + "x" * (length % 3)).encode("utf-8")

    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


def test_an_outgoing_frame_is_encoded_once_for_all_its_readers():
    frame = Outgoing('{"type":"message","body":"调解"}')

    assert frame.wire is frame.wire
    assert frame.wire.endswith('"调解"}'.encode())


def masked(payload: bytes, opcode=Opcode.TEXT, fin=True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=True, extensions=[])


class FakeProtocol:
    """The part of daphne's protocol the reader touches; what it does not take is
    recorded as autobahn's."""

    STATE_OPEN = 1

    def __init__(self, limit=0):
        self.state = self.STATE_OPEN
        self.data = b""
        self.current_frame = None
        self.inside_message = False
        self.maxFramePayloadSize = limit
        self.maxMessagePayloadSize = limit
        self.messages = []
        self.autobahn_got = []
        self._dataReceived = self.autobahn_got.append

    def onMessage(self, payload, is_binary):
        self.messages.append((payload.decode("utf-8"), is_binary))


def leave_to_daphne(payload):
    return False


@pytest.mark.parametrize("length", [0, 1, 125, 126, 4000 * 3, 65535, 65536])
def test_the_reader_unmasks_every_length_class_as_a_websocket_library_masks_it(length):
    text = "字" * (length // 3) + "x" * (length % 3)
    frame = masked(text.encode())

    assert take_text_frames(frame, limit=1 << 20) == ([text.encode()], len(frame))


def test_several_frames_in_one_read_reach_daphne_in_order_and_nothing_goes_to_autobahn():
    protocol = FakeProtocol()
    read_direct(protocol, leave_to_daphne)

    protocol.dataReceived(masked(b'{"type":"typing","active":true}') + masked("调解".encode()) + masked(b"{}"))

    assert protocol.messages == [('{"type":"typing","active":true}', False), ("调解", False), ("{}", False)]
    assert protocol.autobahn_got == []


def test_the_socket_is_offered_each_frame_first_and_daphne_gets_only_what_it_leaves():
    protocol = FakeProtocol()
    taken = []
    read_direct(protocol, lambda payload: payload.startswith(b"{") and not taken.append(payload))

    protocol.dataReceived(masked(b'{"type":"message.send"}') + masked(b"not json") + masked(b"{}"))

    assert taken == [b'{"type":"message.send"}', b"{}"]
    assert protocol.messages == [("not json", False)]
    assert protocol.last_ping > 0


@pytest.mark.parametrize(
    "rest",
    [
        masked(b"\xc3\x28"),  # invalid UTF-8: autobahn closes with 1007
        masked(b"x" * 2000),  # over the limit: autobahn closes with 1009
        masked(b"part", fin=False) + masked(b"two", opcode=Opcode.CONT),  # a fragmented message
        masked(b"", opcode=Opcode.PING),
        masked(b"\x03\xe8", opcode=Opcode.CLOSE),
        masked(b"\x00\x01", opcode=Opcode.BINARY),
        Frame(Opcode.TEXT, b"unmasked").serialize(mask=False, extensions=[]),
        masked(b"split over two reads")[:9],
    ],
    ids=["invalid-utf8", "too-large", "fragmented", "ping", "close", "binary", "unmasked", "incomplete"],
)
def test_what_the_reader_does_not_take_goes_to_autobahn_from_its_first_byte(rest):
    protocol = FakeProtocol(limit=1000)
    read_direct(protocol, leave_to_daphne)
    after = masked(b"after")

    protocol.dataReceived(masked(b"first") + rest + after)

    assert protocol.messages == [("first", False)]
    assert protocol.autobahn_got == [rest + after]


def test_once_autobahn_holds_part_of_a_frame_or_the_connection_closes_it_gets_everything():
    protocol = FakeProtocol()
    read_direct(protocol, leave_to_daphne)
    mine, closing = masked(b"mine"), masked(b"closing")
    protocol.data = b"\x81"
    protocol.dataReceived(mine)
    protocol.data = b""
    protocol.state = 3
    protocol.dataReceived(closing)

    assert protocol.messages == []
    assert protocol.autobahn_got == [mine, closing]


def test_a_text_frame_between_the_fragments_of_another_message_is_left_to_autobahn():
    """RFC 6455 section 5.4: only control frames may come between fragments; autobahn
    fails such a connection, so the reader must not take the frame first."""
    protocol = FakeProtocol()
    read_direct(protocol, leave_to_daphne)
    protocol.inside_message = True  # autobahn took a first fragment, FIN clear
    between = masked(b'{"type":"message.send"}')

    protocol.dataReceived(between)

    assert protocol.messages == []
    assert protocol.autobahn_got == [between]
