"""Which pages may open the platform's WebSockets: its own, compared whole.

A browser sends any page's origin with a WebSocket handshake and the platform's
session cookie with it, so a socket from another origin would act with the signed-in
user's rights. Channels' AllowedHostsOriginValidator compares only the origin's host
name with ALLOWED_HOSTS: a page served over plain HTTP (which anyone on the network
path can write) or by another service on another port of the same host passed. Here
the origin's scheme, host and port must all be the site's, by the rule Django's CSRF
check applies to a form posted to it (CsrfViewMiddleware: the request's own scheme and
Host, or one of CSRF_TRUSTED_ORIGINS), or SITE_URL's, the address the platform sends
people to:

- the request's own origin: `https` when it came over TLS (`wss`, or, behind the
  platform's proxy, SECURE_PROXY_SSL_HEADER as Django reads it for pages), else
  `http`, and its Host header, which must be one of ALLOWED_HOSTS;
- each of CSRF_TRUSTED_ORIGINS (`https://*.example.com` covers subdomains);
- SITE_URL's scheme, host and port.

A handshake without an Origin, with a Host that is not allowed, or from any other
origin is refused before anything else runs (HTTP 403): no session is looked up and
no database is touched for it. The comparison itself (default ports, subdomains) is
Channels' `OriginValidator.match_allowed_origin`.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


class SameOriginValidator(OriginValidator):
    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator guards WebSocket connections only")
        headers = _headers(scope)
        if self.origin_allowed(headers.get(b"origin"), site_origins(scope, headers)):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def origin_allowed(self, origin: bytes | None, allowed: list[str]) -> bool:
        if origin is None:
            return False
        try:
            parsed = urlparse(origin.decode("latin-1").strip().lower())
            # A port that is not a number raises here, and is refused.
            parsed.port  # noqa: B018
        except ValueError:
            return False
        if parsed.scheme not in ("http", "https") or parsed.path or parsed.query or parsed.username:
            return False
        return any(self.match_allowed_origin(parsed, pattern) for pattern in allowed)


def site_origins(scope, headers: dict[bytes, bytes]) -> list[str]:
    """The origins (scheme://host[:port]) whose pages may open a socket on this
    request; none from a Host the platform does not serve."""
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return []
    scheme = "https" if _came_over_tls(scope, headers) else "http"
    trusted = [_channels_pattern(origin) for origin in settings.CSRF_TRUSTED_ORIGINS]
    return [f"{scheme}://{host}", *trusted, _origin_of(settings.SITE_URL)]


def _allowed_hosts() -> list[str]:
    # As Django's HttpRequest.get_host does.
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        return [".localhost", "127.0.0.1", "[::1]"]
    return allowed


def _came_over_tls(scope, headers: dict[bytes, bytes]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy_header:
        return False
    # As Django's HttpRequest.is_secure reads it: HTTP_X_FORWARDED_PROTO is the
    # header X-Forwarded-Proto, and the first of several values counts.
    name, secure_value = proxy_header
    header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
    value = headers.get(header)
    return value is not None and value.decode("latin-1").split(",", 1)[0].strip() == secure_value


def _channels_pattern(origin: str) -> str:
    """A CSRF_TRUSTED_ORIGINS entry as Channels writes the same pattern: Django's
    `https://*.example.com` is Channels' `https://.example.com`."""
    return origin.replace("://*.", "://.", 1)


def _origin_of(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _headers(scope) -> dict[bytes, bytes]:
    """The first value of each header the check reads."""
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", ()):
        found.setdefault(name.lower(), value)
    return found
