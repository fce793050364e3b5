"""The short-lived credential the platform issues per person and room.

It names the user and the room and is signed with the platform's key; the media
socket takes it only from the same signed-in user, for the same room, within
MEDIA_CREDENTIAL_SECONDS of its issue, and asks the media rule again. A copy in
another browser is useless: another user there is refused, and after it expires
everyone is. The TURN credential that goes with it is coturn's time-limited one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.core import signing

from rooms.media.secrets import turn_secret

SALT = "rooms.media.credential"


def issue(user_id: int, room_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{user_id}:{room_id}:{secrets.token_urlsafe(8)}")


def holder(credential: str) -> tuple[int, int] | None:
    """The (user id, room id) a credential was issued to, if it is genuine and not
    expired; None otherwise."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(credential, max_age=settings.MEDIA_CREDENTIAL_SECONDS)
    except signing.BadSignature:
        return None
    user_id, room_id, _nonce = value.split(":", 2)
    return int(user_id), int(room_id)


def lifetime() -> int:
    """Seconds a credential is good for after its issue."""
    return int(settings.MEDIA_CREDENTIAL_SECONDS)


def is_valid_for(credential: str, user_id: int, room_id: int) -> bool:
    return holder(credential) == (user_id, room_id)


def ice_servers(user_id: int) -> list[dict]:
    """The browser's ICE servers: coturn with a time-limited credential (its user name
    is the expiry and the user's id, its password the HMAC coturn checks)."""
    if not settings.TURN_URLS:
        return []
    username = f"{int(time.time()) + settings.TURN_CREDENTIAL_SECONDS}:{user_id}"
    digest = hmac.new(turn_secret().encode(), username.encode(), hashlib.sha1).digest()
    return [{"urls": list(settings.TURN_URLS), "username": username, "credential": base64.b64encode(digest).decode()}]
