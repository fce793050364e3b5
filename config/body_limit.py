"""Refuse a request body over its path's cap with 413 as it streams in, before Django
spools or parses it, and before any view reads it.

Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE, FILE_UPLOAD_MAX_MEMORY_SIZE) decide
what is kept in memory, not how much is read: its ASGI handler copies the whole body
into a temporary file first. This wrapper counts what the server hands over and, past
the cap (REQUEST_BODY_LIMITS for a path, REQUEST_MAX_BYTES otherwise), answers 413 and
tells Django the client went away, so that nothing more is read.

Daphne itself reads a whole request body before it calls the application, and
Twisted's Request, which daphne does not tell otherwise, then read a multipart or
form body into memory to parse it (for nothing: Django parses it again): a 200 MB
upload cost 200 MB of memory before any of our code ran.
`rooms.server.daphne.bound_request_bodies` (the one module that knows daphne's
internals) builds daphne's requests with Twisted's public
`parsePOSTFormSubmission=False` and stops reading a body past the largest cap of all,
answering 413 and closing the connection as a client that went away would; this
wrapper then applies each path's own cap. It uses daphne's HTTPFactory and WebRequest
(pinned by the lock file), checks them at start-up and logs an ERROR, leaving this
wrapper alone in place, when they changed. A reverse proxy with a body limit (nginx's client_max_body_size) must
still face clients, for slow senders and for everything else a proxy does:
docs/request-limits.md.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _


def body_limit_for(path: str) -> int:
    return settings.REQUEST_BODY_LIMITS.get(path, settings.REQUEST_MAX_BYTES)


def largest_body_limit() -> int:
    return max(settings.REQUEST_MAX_BYTES, *settings.REQUEST_BODY_LIMITS.values())


def refusal_text(limit: int, accept_language: str = "") -> str:
    """The 413's message, in the client's language (no request exists yet)."""
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    with translation.override(translation.get_language_from_request(request)):
        return _("The request is larger than %(limit)s.") % {"limit": filesizeformat(limit)}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _refusal(scope, limit: int) -> tuple[list, bytes]:
    message = refusal_text(limit, _header(scope, b"accept-language"))
    if "application/json" in _header(scope, b"accept"):
        return [(b"content-type", b"application/json")], json.dumps({"error": message}).encode()
    return [(b"content-type", b"text/plain; charset=utf-8")], message.encode()


class RequestBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit_for(scope.get("path", ""))
        refused = False

        async def refuse():
            nonlocal refused
            refused = True
            headers, body = _refusal(scope, limit)
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [*headers, (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
                }
            )
            await send({"type": "http.response.body", "body": body})

        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await refuse()
            return
        received = 0

        async def limited_receive():
            nonlocal received
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    await refuse()
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            # After the 413 the application has nothing more to say.
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)
