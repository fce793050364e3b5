"""The secrets shared with Janus and coturn: set in the settings, or derived from
SECRET_KEY so that one key configures a development machine."""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac


def _derived(setting: str, purpose: str) -> str:
    value = getattr(settings, setting, "")
    if value:
        return value
    return salted_hmac(f"rooms.media.{purpose}", "janus", algorithm="sha256").hexdigest()[:40]


def janus_api_secret() -> str:
    return _derived("JANUS_API_SECRET", "api-secret")


def janus_admin_key() -> str:
    return _derived("JANUS_ADMIN_KEY", "admin-key")


def turn_secret() -> str:
    return _derived("TURN_SECRET", "turn-secret")
