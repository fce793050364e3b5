"""The links the platform sends (invitations, emails, the verification address printed
on PDFs) are built from `settings.SITE_URL`, not from the request that happened to
make them: a link must work for whoever receives it later. These helpers say whether
that address is the one actually serving, and draw a link as a QR code."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """A URL's scheme, host (lower case) and port (the scheme's default when none is
    written), the parts that decide where a link leads."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def origin_text(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}"


def site_url_mismatch(request) -> tuple[str, str] | None:
    """(where the links point, where this request is served) when the two differ in
    scheme, host or port; None when links as sent will reach this server. The request's
    address is Django's, so the proxy settings (SECURE_PROXY_SSL_HEADER) apply."""
    serving = request.build_absolute_uri("/")
    if origin(settings.SITE_URL) == origin(serving):
        return None
    return origin_text(settings.SITE_URL), origin_text(serving)


def qr_svg(text: str, *, title: str = "") -> SafeString:
    """`text` as a QR code, an inline SVG (drawn here: nothing is fetched), dark on
    white so that it scans from a dark screen too. Segno is the library the PDFs' QR
    codes use (documents.rendering)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff", title=title or None)
    return mark_safe(svg)
