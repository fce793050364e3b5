"""What the media socket lets through, frame by frame (rooms.media.relay)."""

import pytest

from rooms.media import relay

FORCED = relay.Forced(apisecret="api", room=77, token="join-token", display='{"id":3}')


def rewritten(frame, *, session_id=5, handles=frozenset({9})):
    return relay.rewrite({"transaction": "t", **frame}, FORCED, session_id=session_id, handles=set(handles))


def test_a_publisher_cannot_record_rename_itself_or_reach_another_room():
    request, _id = rewritten(
        {
            "janus": "message",
            "session_id": 5,
            "handle_id": 9,
            "body": {"request": "configure", "record": True, "filename": "/etc/x", "display": "Judge", "room": 1},
            "apisecret": "guess",
            "token": "guess",
        }
    )
    assert request == {
        "janus": "message",
        "transaction": "t",
        "apisecret": "api",
        "session_id": 5,
        "handle_id": 9,
        "body": {"request": "configure", "display": '{"id":3}'},
    }


def test_a_subscriber_joins_this_room_with_its_token():
    request, publisher_id = rewritten(
        {
            "janus": "message",
            "session_id": 5,
            "handle_id": 9,
            "body": {"request": "join", "ptype": "subscriber", "room": 1, "streams": [{"feed": 4}]},
        }
    )
    assert request["body"] == {
        "request": "join",
        "ptype": "subscriber",
        "streams": [{"feed": 4}],
        "room": 77,
        "token": "join-token",
    }
    assert publisher_id is None


@pytest.mark.parametrize(
    "frame",
    [
        {"janus": "create", "session_id": 5},
        {"janus": "keepalive", "session_id": 6},
        {"janus": "trickle", "session_id": 5, "handle_id": 10, "candidate": {}},
        {"janus": "trickle", "session_id": 5, "handle_id": 9},
        {"janus": "message", "session_id": 5, "handle_id": 9, "body": "join"},
        {"janus": "message", "session_id": 5, "handle_id": 9, "body": {"request": "join", "ptype": "listener"}},
        {
            "janus": "message",
            "session_id": 5,
            "handle_id": 9,
            "body": {"request": "publish"},
            "jsep": {"type": "rollback"},
        },
    ],
)
def test_requests_outside_the_socket_or_malformed_are_refused(frame):
    with pytest.raises(relay.Refused):
        rewritten(frame)


@pytest.mark.parametrize("text", ["[]", "{", '{"janus": "create"}', '{"janus": "info", "transaction": "t"}', None])
def test_frames_that_are_not_janus_requests_are_refused(text):
    with pytest.raises(relay.Refused):
        relay.parse_browser_frame(text)


def test_no_secret_reaches_the_browser():
    frame = {"janus": "event", "apisecret": "a", "plugindata": {"data": {"secret": "s", "list": [{"token": "t"}]}}}
    assert relay.without_secrets(frame) == {"janus": "event", "plugindata": {"data": {"list": [{}]}}}
