"""Signing a room socket in from the session cookie, holding only the user.

Channels' AuthMiddlewareStack keeps, for as long as a socket is open, three copies of
its scope, the parsed cookies, the session with its decoded data and a lazy user
wrapper: a few kilobytes per socket, and a room server holds thousands of idle
sockets. This middleware reads the same cookie, resolves the user through Channels'
own `get_user` (which checks the session's expiry and the password hash just as the
stack does), and drops the session.
"""

from __future__ import annotations

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


class SessionUserMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = await get_user({"session": _session_of(scope)})
        return await self.inner({**scope, "user": user}, receive, send)


def _session_of(scope):
    session_key = None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            session_key = parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
            break
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
