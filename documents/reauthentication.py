"""Re-authentication before signing is a guess at the signer's password (or TOTP
code), as a login is, and is throttled the same way, by allauth's rate limits:
`ACCOUNT_RATE_LIMITS["sign_reauthentication"]`, per signer and per address.

Every attempt counts before the password is checked, so that parallel requests
cannot each take a guess the limit no longer allows; an attempt that signs clears
the count (whoever signs knew the password). The service audits each wrong password
or code (`agreements.record_failed_reauthentication`).

The check itself is `reauthenticate`: the signer's TOTP code if they use two-factor
authentication; for a party with a verified mobile number (most have no password
they remember), a one-time code texted to that number (`signs_by_sms`; the code's own
limits are mediation.verification_codes'), or their password if they have one;
otherwise their password."""

from __future__ import annotations

from dataclasses import dataclass, replace

from allauth.core import ratelimit
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import phones, verification_codes
from mediation.errors import ActionForbidden
from mediation.models import User
from mediation.roles import is_court_staff
from mediation.sms import templates as sms_templates

RATE_LIMIT_ACTION = "sign_reauthentication"
# The purpose of the one-time codes texted to sign: a code sent to sign in, or to
# accept an invitation, does not sign anything.
SMS_PURPOSE = "sign"


def signing_attempt_allowed(request: HttpRequest) -> bool:
    """Count this attempt; False once the signer (or the address) has no attempts left."""
    return ratelimit.consume(request, action=RATE_LIMIT_ACTION, user=request.user)


def signing_succeeded(request: HttpRequest) -> None:
    ratelimit.clear(request, action=RATE_LIMIT_ACTION, user=request.user)


@dataclass(frozen=True)
class Reauthentication:
    password: str = ""
    totp_code: str = ""
    sms_code: str = ""
    # Set by check_sms_code: the texted code found right, to be spent on signing.
    sms_checked: verification_codes.CheckedCode | None = None


class ReauthenticationFailed(ActionForbidden):
    """The password or code given to sign was not right; `method` says which was
    asked for ("password", "totp" or "sms")."""

    def __init__(self, message, *, method: str):
        super().__init__(message)
        self.method = method


def _totp_authenticator(user: User):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


def uses_totp(user: User) -> bool:
    return _totp_authenticator(user) is not None


def signs_by_sms(user: User) -> bool:
    """Whether this signer confirms it is them with a code texted to their verified
    mobile number: a party (court staff keep their password or authenticator app)
    without an authenticator app, whose number was verified."""
    return bool(user.phone and user.phone_verified_at) and not is_court_staff(user) and not uses_totp(user)


sms_templates.register(
    "signing_code",
    gettext_lazy(
        "%(court)s: your code to sign the settlement agreement of case %(number)s is %(code)s, valid for "
        "%(minutes)s minutes. Do not tell it to anyone."
    ),
    secret=("code",),
)


def send_signing_code(user: User, agreement, *, client_address: str | None, language: str | None = None) -> str:
    """Text a code to sign `agreement` (its current version: the code signs nothing
    else) to the signer's verified number; the masked number it went to. The message
    says which case's agreement it signs. Refused (CodeRefused, saying when to try
    again) by the codes' limits."""
    return send_code_to_sign(
        user,
        content_hash=agreement.current_version.content_hash,
        template="signing_code",
        params={"court": settings.COURT_NAME, "number": agreement.case.number},
        client_address=client_address,
        language=language,
    )


def send_code_to_sign(
    user: User,
    *,
    content_hash: str,
    template: str,
    params: dict,
    client_address: str | None,
    language: str | None = None,
) -> str:
    """Text a code that signs the content whose hash is `content_hash`, and nothing
    else (`check_sms_code` with the same hash), to the signer's verified number; the
    masked number it went to. `template` (an SMS template with %(code)s and
    %(minutes)s) names what the code signs, with `params`. Refused (CodeRefused,
    saying when to try again) by the codes' limits."""
    if not signs_by_sms(user):
        raise ActionForbidden(_("Your account has no verified mobile number to send a code to."))
    verification_codes.send_code(
        str(user.phone),
        SMS_PURPOSE,
        client_address=client_address,
        language=language,
        scope=content_hash,
        template=template,
        params=params,
    )
    return phones.mask(user.phone)


def _chooses_sms(user: User, proof: Reauthentication) -> bool:
    """A party who signs by SMS gives the texted code, or their password if they
    have one and typed it instead."""
    return signs_by_sms(user) and (bool(proof.sms_code.strip()) or not proof.password)


def check_sms_code(user: User, proof: Reauthentication, *, version_hash: str) -> Reauthentication:
    """The texted code checked against what it was sent to sign (`version_hash`: an
    agreement version's or a court document's content hash), before the signing's
    transaction, so that a wrong try counts even though the signing is undone (five
    wrong tries kill a code); it is spent by `reauthenticate`, inside that transaction, only if the signature is made.
    Unchanged when the signer does not sign by SMS."""
    if not _chooses_sms(user, proof):
        return proof
    if not proof.sms_code.strip():
        raise ReauthenticationFailed(
            _("Enter the code texted to your phone to confirm it is you who signs. Nothing was signed."),
            method="sms",
        )
    try:
        checked = verification_codes.check_code(
            str(user.phone), SMS_PURPOSE, proof.sms_code.strip(), scope=version_hash
        )
    except verification_codes.CodeRefused as refused:
        raise ReauthenticationFailed(
            _("%(reason)s Nothing was signed.") % {"reason": refused.message}, method="sms"
        ) from None
    return replace(proof, sms_checked=checked)


def reauthenticate(user: User, proof: Reauthentication) -> str:
    """Check the signer is who is signed in, just now: their TOTP code if they use
    two-factor authentication; a texted code (or their password) for a party who
    signs by SMS; otherwise their password. Returns how."""
    from allauth.mfa.totp.internal.auth import TOTP

    authenticator = _totp_authenticator(user)
    if authenticator is not None:
        if proof.totp_code and TOTP(authenticator).validate_code(proof.totp_code.strip()):
            return "totp"
        raise ReauthenticationFailed(
            _("The code from your authenticator app is not right. Nothing was signed."), method="totp"
        )
    if _chooses_sms(user, proof):
        if proof.sms_checked is None:
            raise ReauthenticationFailed(_("Check the texted code first. Nothing was signed."), method="sms")
        try:
            verification_codes.use_code(proof.sms_checked)
        except verification_codes.CodeRefused as refused:
            raise ReauthenticationFailed(
                _("%(reason)s Nothing was signed.") % {"reason": refused.message}, method="sms"
            ) from None
        return "sms"
    if proof.password and user.check_password(proof.password):
        return "password"
    raise ReauthenticationFailed(_("Your password is not right. Nothing was signed."), method="password")
