"""Signing a room socket in from the session cookie, holding only the user.

Channels' AuthMiddlewareStack keeps, for as long as a socket is open, three copies of
its scope, the parsed cookies, the session with its decoded data and a lazy user
wrapper: a few kilobytes per socket, and a room server holds thousands of idle
sockets. This middleware only reads the session key from the cookie (no database);
the room socket resolves the user with `user_of_session` once its handshake is
accepted, in the same thread hop as the rest of its database work, and drops the
session. Resolving it before the handshake is accepted would queue, in a restart
storm, a thousand handshakes behind the database thread until daphne times them out.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie
from django.utils.crypto import constant_time_compare

SESSION_KEY_SCOPE = "session_key"


class SessionUserMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        return await self.inner({**scope, SESSION_KEY_SCOPE: _session_key_of(scope)}, receive, send)


def _session_key_of(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return None


def user_of_session(session_key: str | None):
    """The user a session signs in, or AnonymousUser: the checks of Channels'
    `channels.auth.get_user` (the session's expiry, a backend still configured, the
    password hash the session was made with; a session that fails the last is
    flushed), run synchronously so that the caller chooses the thread hop."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    try:
        # Stored as a string; the primary key's own type, as Django reads it.
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    user = load_backend(backend_path).get_user(user_id)
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
            session.flush()
            return AnonymousUser()
    return user or AnonymousUser()
