"""Request bodies are bounded by what the platform reads, not by what a client sends:
past its path's cap a request is answered 413 while it streams in, and nothing more
is read (Django would otherwise spool all of it, and the view read it)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket

import pytest
from django.conf import settings

CHUNK = 64 * 1024
VERIFY = "/verify/"
UPLOAD = "/cases/1/documents/upload/"


def scope(path: str, headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
            (b"accept", b"application/json"),
            *headers,
        ],
        "client": ("198.51.100.9", 40000),
        "server": ("testserver", 80),
    }


async def post_endless_body(path: str, headers=()) -> tuple[list[dict], int]:
    """POST a body that never ends (a chunked upload of unbounded size) to the
    platform's ASGI application; return what it sent and how many chunks it read."""
    from config.asgi import application

    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(application(scope(path, headers), receive, send), timeout=20)
    return sent, pulled


def status_and_body(sent: list[dict]) -> tuple[int, bytes]:
    [start] = [message for message in sent if message["type"] == "http.response.start"]
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize(("path", "limit"), [(VERIFY, "verify"), (UPLOAD, "default")])
async def test_an_endless_body_is_refused_with_413_after_its_path_s_cap(path, limit):
    cap = settings.REQUEST_BODY_LIMITS[VERIFY] if limit == "verify" else settings.REQUEST_MAX_BYTES

    sent, pulled = await post_endless_body(path)

    status, body = status_and_body(sent)
    assert status == 413
    assert "The request is larger than" in body.decode()
    # Read up to the cap and one chunk more, never the rest.
    assert pulled * CHUNK <= cap + CHUNK


async def test_the_verify_cap_is_what_a_sealed_agreement_can_be():
    assert settings.REQUEST_BODY_LIMITS[VERIFY] <= settings.VERIFY_MAX_BYTES + 1024 * 1024
    assert settings.VERIFY_MAX_BYTES <= 10 * 1024 * 1024


async def test_a_declared_length_over_the_cap_is_refused_before_reading_anything():
    sent, pulled = await post_endless_body(VERIFY, headers=[(b"content-length", b"209715200")])

    assert status_and_body(sent)[0] == 413
    assert pulled == 0


async def test_the_refusal_speaks_the_client_s_language():
    sent, _pulled = await post_endless_body(VERIFY, headers=[(b"accept-language", b"zh-CN,zh;q=0.9")])
    status, body = status_and_body(sent)
    assert status == 413
    assert "请求内容超过" in json.loads(body)["error"]


def send_chunked(connection, size: int) -> None:
    chunk = b"x" * CHUNK
    try:
        for _ in range(size // CHUNK + 1):
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed while we were still sending


@pytest.mark.django_db(transaction=True)
def test_daphne_answers_413_to_a_chunked_post_over_the_verify_cap_and_keeps_serving(daphne_server):
    host, port = "127.0.0.1", daphne_server.port

    answers = []
    for size in (settings.REQUEST_BODY_LIMITS[VERIFY] + 2 * 1024 * 1024, settings.REQUEST_MAX_BYTES * 3):
        connection = http.client.HTTPConnection(host, port, timeout=60)
        connection.putrequest("POST", VERIFY)
        connection.putheader("Content-Type", "multipart/form-data; boundary=xyz")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        send_chunked(connection, size)
        response = connection.getresponse()
        answers.append((response.status, response.read().decode()))
        connection.close()

    # Past /verify/'s cap, and past every cap (where daphne stops reading).
    assert [status for status, _text in answers] == [413, 413], answers
    assert all("The request is larger than" in text for _status, text in answers)
    again = http.client.HTTPConnection(host, port, timeout=30)
    again.request("GET", VERIFY)
    assert again.getresponse().status == 200
    again.close()
    assert daphne_server.alive()
    assert "Traceback" not in daphne_server.output()


@pytest.mark.django_db(transaction=True)
def test_daphne_refuses_a_declared_200_mb_body_before_it_is_sent(daphne_server):
    with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=10) as raw:
        raw.sendall(
            b"POST /verify/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: zh-CN\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 209715200\r\n\r\n"
        )
        answer = raw.recv(4096)

    assert answer.startswith(b"HTTP/1.1 413")
    assert "请求内容超过" in answer.decode()


def test_daphne_classes_lacking_what_the_body_bound_uses_are_reported_and_left_alone(monkeypatch, caplog):
    """An upgrade that renames what the bound overrides must not leave a patch in place
    that breaks or silently stops bounding: one ERROR names the missing parts, and
    daphne is left as it is (config.body_limit's ASGI wrapper still applies)."""
    import daphne.http_protocol

    from rooms.server import daphne as daphne_internals

    factory = daphne.http_protocol.HTTPFactory
    monkeypatch.delattr(factory, "bounds_request_bodies", raising=False)
    monkeypatch.setattr(factory, "buildProtocol", factory.buildProtocol)
    monkeypatch.setattr(daphne.http_protocol, "WebRequest", type("WebRequest", (), {}))
    built_before = factory.buildProtocol

    daphne_internals.bound_request_bodies()

    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1
    assert "WebRequest.handleContentChunk" in errors[0].getMessage()
    assert factory.buildProtocol is built_before
    assert not getattr(factory, "bounds_request_bodies", False)


def test_the_installed_daphne_has_everything_the_body_bound_uses():
    import daphne.http_protocol
    from twisted.web.http import Request

    from rooms.server.daphne import missing_http_internals

    assert missing_http_internals(daphne.http_protocol.HTTPFactory, daphne.http_protocol.WebRequest, Request) == []
