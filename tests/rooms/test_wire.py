"""Frames written straight to daphne's transport must be exactly what a WebSocket
library would send: any byte wrong and every client drops the connection."""

import pytest
from websockets.frames import Frame, Opcode

from rooms.wire import Outgoing, text_frame


@pytest.mark.parametrize("length", [0, 1, 125, 126, 4000 * 4, 65535, 65536, 200_000])
def test_a_text_frame_is_byte_for_byte_what_a_websocket_library_sends(length):
    payload = ("字" * (length // 3) + "x" * (length % 3)).encode("utf-8")

    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


def test_an_outgoing_frame_is_encoded_once_for_all_its_readers():
    frame = Outgoing('{"type":"message","body":"调解"}')

    assert frame.wire is frame.wire
    assert frame.wire.endswith('"调解"}'.encode())
