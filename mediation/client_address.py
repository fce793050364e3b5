"""The address a request comes from, for rate limits and the record."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address. Behind the platform's own reverse proxy (TRUSTED_PROXY
    set), the first X-Forwarded-For entry; otherwise the socket's peer."""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")
