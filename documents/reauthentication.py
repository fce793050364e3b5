"""Re-authentication before signing is a guess at the signer's password (or TOTP
code), as a login is, and is throttled the same way, by allauth's rate limits:
`ACCOUNT_RATE_LIMITS["sign_reauthentication"]`, per signer and per address.

Every attempt counts before the password is checked, so that parallel requests
cannot each take a guess the limit no longer allows; an attempt that signs clears
the count (whoever signs knew the password). The service audits each wrong password
or code (`agreements.record_failed_reauthentication`)."""

from __future__ import annotations

from allauth.core import ratelimit
from django.http import HttpRequest

RATE_LIMIT_ACTION = "sign_reauthentication"


def signing_attempt_allowed(request: HttpRequest) -> bool:
    """Count this attempt; False once the signer (or the address) has no attempts left."""
    return ratelimit.consume(request, action=RATE_LIMIT_ACTION, user=request.user)


def signing_succeeded(request: HttpRequest) -> None:
    ratelimit.clear(request, action=RATE_LIMIT_ACTION, user=request.user)
