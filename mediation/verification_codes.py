"""One-time codes sent by SMS: to sign in, to apply or follow a request, to accept an
invitation, to sign.

A code is 6 digits, valid 5 minutes, kept only as a keyed hash (HMAC with the
SECRET_KEY, the number and the purpose) and compared in constant time. A code takes
at most 5 wrong tries; then it is dead and a new one must be asked for. A new code
for a number comes no sooner than 60 s after the last one, and at most 5 per number
and 20 per client address in an hour, so that nobody can bomb a stranger's phone
with messages. Every refusal says when to try again; a refusal changes nothing.

A code to sign an agreement goes only to the signer's own verified number, asked for
by them signed in: it has a budget of its own (60 s, 5 an hour), so that nobody who
knows a party's number can use up its codes and keep them from signing. A client
address is counted by its network for IPv6 (a /64, as mediation.throttle does), so
that rotating addresses within one's own network gains nothing.

Checking a code counts a wrong try in its own transaction: call `check_code` before
the transaction of the action it allows, so that a try is counted even when the
action then fails."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mediation.errors import DomainError
from mediation.models import PhoneCode
from mediation.sms import send_sms

PURPOSES = ("login", "signup", "apply", "track", "invitation", "sign", "verify")
CODE_DIGITS = 6
VALID_FOR = dt.timedelta(minutes=5)
MAX_WRONG_TRIES = 5
RESEND_AFTER = dt.timedelta(seconds=60)
PER_NUMBER_PER_HOUR = 5
PER_ADDRESS_PER_HOUR = 20
HOUR = dt.timedelta(hours=1)
# Purposes whose codes only the signed-in holder of a verified number can have sent to
# it; every other purpose can be asked for by anyone who types a number.
OWN_NUMBER_PURPOSES = ("sign",)


def _budget(purpose: str) -> tuple[str, ...]:
    """The purposes whose codes count together against a number's limits."""
    if purpose in OWN_NUMBER_PURPOSES:
        return OWN_NUMBER_PURPOSES
    return tuple(each for each in PURPOSES if each not in OWN_NUMBER_PURPOSES)


def _scoped(purpose: str, scope: str) -> str:
    return f"{purpose}:{scope}" if scope else purpose


def _address_key(client_address: str | None) -> str | None:
    from mediation.throttle import client_key

    return client_key(client_address) if client_address else None


class CodeRefused(DomainError):
    """No code was sent, or a code was not accepted. `code` says why:
    too_soon, number_limit, address_limit (a new code cannot be sent yet),
    wrong, expired, used, none (the code given is not right) and
    too_many_tries (this code is dead: the sixth try). `retry_after` is in seconds
    where waiting helps."""

    def __init__(self, message, *, code: str, retry_after: int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


def _hash(phone: str, purpose: str, code: str) -> str:
    return salted_hmac("mediation.verification_codes", f"{purpose}|{phone}|{code}", algorithm="sha256").hexdigest()


def _wait_message(seconds: int) -> str:
    if seconds < 90:
        return ngettext("Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds) % {
            "count": seconds
        }
    minutes = math.ceil(seconds / 60)
    return ngettext("Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes) % {"count": minutes}


def _refuse_if_too_many(phone: str, client_address: str | None, now: dt.datetime, purpose: str = "login") -> None:
    recent = PhoneCode.objects.filter(phone=phone, purpose__in=_budget(purpose), created_at__gt=now - HOUR).order_by(
        "-created_at"
    )
    last = recent.first()
    if last is not None and last.created_at > now - RESEND_AFTER:
        wait = math.ceil((last.created_at + RESEND_AFTER - now).total_seconds())
        raise CodeRefused(
            _("A code was sent to this number less than a minute ago.") + " " + _wait_message(wait),
            code="too_soon",
            retry_after=wait,
        )
    sent = list(recent.values_list("created_at", flat=True)[:PER_NUMBER_PER_HOUR])
    if len(sent) >= PER_NUMBER_PER_HOUR:
        wait = math.ceil((sent[-1] + HOUR - now).total_seconds())
        raise CodeRefused(
            _("Five codes were sent to this number in the last hour.") + " " + _wait_message(wait),
            code="number_limit",
            retry_after=wait,
        )
    if client_address:
        from_address = list(
            PhoneCode.objects.filter(client_address=client_address, created_at__gt=now - HOUR)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:PER_ADDRESS_PER_HOUR]
        )
        if len(from_address) >= PER_ADDRESS_PER_HOUR:
            wait = math.ceil((from_address[-1] + HOUR - now).total_seconds())
            raise CodeRefused(
                _("Too many codes were asked for from this connection in the last hour.") + " " + _wait_message(wait),
                code="address_limit",
                retry_after=wait,
            )


def _lock_number(phone: str) -> None:
    """Serialise requests for one number, so that two at once cannot both pass the
    limits. PostgreSQL: a transaction-level advisory lock; SQLite locks the database
    for the writing transaction anyway."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"phone-code:{phone}"])


def refusal_to_send(phone: str, *, client_address: str | None = None, purpose: str = "login") -> CodeRefused | None:
    """Why `send_code` would refuse to text `phone` now (the limits above), or None.
    Sends and changes nothing: for a form to say so before it creates anything;
    `send_code` checks again under the lock."""
    try:
        _refuse_if_too_many(str(phone), _address_key(client_address), timezone.now(), purpose)
    except CodeRefused as refusal:
        return refusal
    return None


@transaction.atomic
def send_code(
    phone: str,
    purpose: str,
    *,
    client_address: str | None = None,
    language: str | None = None,
    scope: str = "",
    template: str = "verification_code",
    params: dict | None = None,
) -> PhoneCode:
    """Send a new one-time code to `phone` (E.164) for `purpose`, or refuse with
    CodeRefused saying when to try again. Earlier codes for the same purpose stop
    working: only the newest is valid. A `scope` binds the code to one thing (what is
    signed): it is right only when checked with the same scope. `template` says what
    the code is for, with `params` (it has `code` and `minutes`)."""
    record, code = _new_code(phone, purpose, client_address, scope=scope)
    send_sms(
        str(phone),
        template,
        {**(params or {}), "code": code, "minutes": int(VALID_FOR.total_seconds() // 60)},
        language=language,
    )
    return record


@transaction.atomic
def record_unsent_code(phone: str, purpose: str, *, client_address: str | None = None) -> PhoneCode:
    """What `send_code` does, without texting anyone: for a number that must not get a
    code (no account has it, or court staff's), so that the page, the limits and every
    code tried answer exactly as for a number that did, and nobody learns which
    numbers have accounts. No code matches it."""
    record, _code = _new_code(phone, purpose, client_address, matchable=False)
    return record


def _new_code(phone: str, purpose: str, client_address: str | None, *, matchable: bool = True, scope: str = ""):
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown purpose {purpose!r}")
    phone = str(phone)
    client_address = _address_key(client_address)
    _lock_number(phone)
    now = timezone.now()
    _refuse_if_too_many(phone, client_address, now, purpose)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    PhoneCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    record = PhoneCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(phone, _scoped(purpose, scope), code) if matchable else "-" * 64,
        client_address=client_address,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    return record, code


@dataclass(frozen=True)
class CheckedCode:
    """A code that was right; `use_code` spends it."""

    id: int
    phone: str
    purpose: str


def check_code(phone: str, purpose: str, code: str, *, scope: str = "") -> CheckedCode:
    """The newest code sent to `phone` for `purpose`, if `code` is it and it is still
    good; else CodeRefused. A wrong try is counted (committed at once); the sixth try
    on one code is refused as too_many_tries whatever it is."""
    phone = str(phone)
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at", "-id")
            .first()
        )
        if record is None:
            raise CodeRefused(_("Ask for a code first: none was sent to this number."), code="none")
        if record.failed_attempts >= MAX_WRONG_TRIES:
            raise CodeRefused(_("This code was tried too many times. Ask for a new code."), code="too_many_tries")
        if record.used_at is not None:
            raise CodeRefused(_("This code was already used. Ask for a new code."), code="used")
        right = hmac.compare_digest(record.code_hash, _hash(phone, _scoped(purpose, scope), code))
        if record.expires_at <= now:
            raise CodeRefused(
                _("This code has expired: codes are valid for 5 minutes. Ask for a new code."), code="expired"
            )
        if not right:
            record.failed_attempts += 1
            record.save(update_fields=["failed_attempts"])
            left = MAX_WRONG_TRIES - record.failed_attempts
            if left <= 0:
                message = _("The code is not right, and it cannot be tried again. Ask for a new code.")
            else:
                message = ngettext(
                    "The code is not right. You can try %(count)d more time.",
                    "The code is not right. You can try %(count)d more times.",
                    left,
                ) % {"count": left}
            # Committed by the atomic block above even though the caller is refused.
            error = CodeRefused(message, code="wrong")
    if not right:
        raise error
    return CheckedCode(id=record.pk, phone=phone, purpose=purpose)


def use_code(checked: CheckedCode) -> None:
    """Spend a code that `check_code` accepted, inside the action it allows: it cannot
    be used again. Refused if another request spent it first."""
    spent = PhoneCode.objects.filter(pk=checked.id, used_at__isnull=True).update(used_at=timezone.now())
    if not spent:
        raise CodeRefused(_("This code was already used. Ask for a new code."), code="used")


def verify_code(phone: str, purpose: str, code: str, *, scope: str = "") -> CheckedCode:
    """Check and spend a code at once."""
    checked = check_code(phone, purpose, code, scope=scope)
    use_code(checked)
    return checked
