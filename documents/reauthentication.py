"""Re-authentication before signing is a guess at the signer's password (or TOTP
code), as a login is, and is throttled the same way, by allauth's rate limits:
`ACCOUNT_RATE_LIMITS["sign_reauthentication"]`, per signer and per address.

Every attempt counts before the password is checked, so that parallel requests
cannot each take a guess the limit no longer allows; an attempt that signs clears
the count (whoever signs knew the password). The service audits each wrong password
or code (`agreements.record_failed_reauthentication`).

The check itself, the signer's TOTP code if they use two-factor authentication and
their password otherwise, is `reauthenticate`."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.core import ratelimit
from django.http import HttpRequest
from django.utils.translation import gettext as _

from mediation.errors import ActionForbidden
from mediation.models import User

RATE_LIMIT_ACTION = "sign_reauthentication"


def signing_attempt_allowed(request: HttpRequest) -> bool:
    """Count this attempt; False once the signer (or the address) has no attempts left."""
    return ratelimit.consume(request, action=RATE_LIMIT_ACTION, user=request.user)


def signing_succeeded(request: HttpRequest) -> None:
    ratelimit.clear(request, action=RATE_LIMIT_ACTION, user=request.user)


@dataclass(frozen=True)
class Reauthentication:
    password: str = ""
    totp_code: str = ""


class ReauthenticationFailed(ActionForbidden):
    """The password or code given to sign was not right; `method` says which was
    asked for ("password" or "totp")."""

    def __init__(self, message, *, method: str):
        super().__init__(message)
        self.method = method


def _totp_authenticator(user: User):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


def uses_totp(user: User) -> bool:
    return _totp_authenticator(user) is not None


def reauthenticate(user: User, proof: Reauthentication) -> str:
    """Check the signer is who is signed in, just now: their TOTP code if they use
    two-factor authentication, otherwise their password. Returns how."""
    from allauth.mfa.totp.internal.auth import TOTP

    authenticator = _totp_authenticator(user)
    if authenticator is not None:
        if proof.totp_code and TOTP(authenticator).validate_code(proof.totp_code.strip()):
            return "totp"
        raise ReauthenticationFailed(
            _("The code from your authenticator app is not right. Nothing was signed."), method="totp"
        )
    if proof.password and user.check_password(proof.password):
        return "password"
    raise ReauthenticationFailed(_("Your password is not right. Nothing was signed."), method="password")
