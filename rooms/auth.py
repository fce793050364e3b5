"""Signing a room socket in from the session cookie, holding only the user.

Channels' AuthMiddlewareStack keeps, for as long as a socket is open, three copies of
its scope, the parsed cookies, the session with its decoded data and a lazy user
wrapper: a few kilobytes per socket, and a room server holds thousands of idle
sockets. This middleware only reads the session key from the cookie (no database);
the room socket resolves the user with `users_of_sessions` once its handshake is
accepted, in the same thread hop as the rest of its database work (rooms.entry), and drops the
session. Resolving it before the handshake is accepted would queue, in a restart
storm, a thousand handshakes behind the database thread until daphne times them out.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.http.cookie import parse_cookie
from django.utils import timezone
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
    """The user a session signs in, or AnonymousUser (see `users_of_sessions`)."""
    return users_of_sessions([session_key])[session_key]


def users_of_sessions(session_keys) -> dict:
    """The user each session signs in, or AnonymousUser: the checks of Channels'
    `channels.auth.get_user` (the session's expiry, a backend still configured, the
    password hash the session was made with; a session that fails the last is
    flushed), run synchronously so that the caller chooses the thread hop. With the
    database's session engine and Django's model backend (or one that keeps its
    `get_user`), two queries however many sessions: in a restart storm every socket
    of a process signs in at once (rooms.entry)."""
    engine = import_module(settings.SESSION_ENGINE)
    stores = {key: engine.SessionStore(session_key=key) for key in set(session_keys)}
    _load_together(stores)
    signed_in = {}
    for key, store in stores.items():
        try:
            # Stored as a string; the primary key's own type, as Django reads it.
            user_id = get_user_model()._meta.pk.to_python(store[SESSION_KEY])
            backend_path = store[BACKEND_SESSION_KEY]
        except KeyError:
            continue
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            signed_in[key] = (user_id, backend_path)
    users = _users_by_backend(signed_in.values())
    answers = dict.fromkeys(stores, AnonymousUser())
    for key, (user_id, backend_path) in signed_in.items():
        user = users.get((backend_path, user_id))
        if hasattr(user, "get_session_auth_hash"):
            session_hash = stores[key].get(HASH_SESSION_KEY)
            if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
                stores[key].flush()
                continue
        answers[key] = user or AnonymousUser()
    return answers


def _load_together(stores: dict) -> None:
    """Load the database engine's sessions in one query, as each store's `load` would
    one by one (unexpired only); other engines load their own when read."""
    if not stores or not isinstance(next(iter(stores.values())), DatabaseSessionStore):
        return
    model = next(iter(stores.values())).model
    valid = [store.session_key for store in stores.values() if store.session_key is not None]
    data = dict(
        model.objects.filter(session_key__in=valid, expire_date__gt=timezone.now()).values_list(
            "session_key", "session_data"
        )
    )
    for store in stores.values():
        if store.session_key in data:
            store._session_cache = store.decode(data[store.session_key])
        else:
            store._session_key = None
            store._session_cache = {}


def _users_by_backend(signed_in) -> dict:
    """(backend path, user id) -> the user its backend's `get_user` answers (or None):
    one query per backend that keeps ModelBackend's, one per user for any other."""
    ids_by_backend = {}
    for user_id, backend_path in signed_in:
        ids_by_backend.setdefault(backend_path, set()).add(user_id)
    users = {}
    for backend_path, user_ids in ids_by_backend.items():
        backend = load_backend(backend_path)
        if isinstance(backend, ModelBackend) and type(backend).get_user is ModelBackend.get_user:
            for user in get_user_model()._default_manager.filter(pk__in=user_ids):
                users[backend_path, user.pk] = user if backend.user_can_authenticate(user) else None
        else:
            for user_id in user_ids:
                users[backend_path, user_id] = backend.get_user(user_id)
    return users
