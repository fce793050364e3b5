"""Invitations: the only way a party's person gets an account and rights in a case.

An invitation names the invited person's mobile number and is texted there (SMS
template "invitation": the court, the case, the side, the link). A token is 32 random
bytes shown once in a link; only its SHA-256 is stored. The link alone lets nobody
in: accepting needs a one-time code sent to that number (verification_codes, purpose
"invitation"), and, when the party in person is a natural person whose resident ID
number the court recorded, the same ID number, matched by its keyed hash (a limited
number of wrong ones per invitation). An expired, used, revoked or altered token
attaches nobody, and no invitation admits a court staff account.

Who accepts, once the code is right: the account that already has this number (it is
signed in: one person, one account), else the signed-in account, else a new account
named from the invitation. That account's number becomes the invited one, verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from mediation import id_numbers, phones, verification_codes
from mediation.errors import DomainError, TransitionNotAllowed
from mediation.models import Invitation, MediationCase, Participant, Party, User
from mediation.models.cases import ParticipantRole
from mediation.notifications import notify, signed_by_the_court
from mediation.roles import is_court_staff
from mediation.services.accounts import release_unproved_number
from mediation.services.cases import (
    attach_participant,
    case_url,
    lock_case,
    lock_case_for_action,
    record_case_event,
)
from mediation.sms import send_sms
from mediation.sms import templates as sms_templates

CODE_PURPOSE = "invitation"
# Wrong ID numbers one invitation takes before it is dead and the mediator must invite
# again (counted per invitation, not per code: see Invitation).
MAX_WRONG_ID_NUMBERS = Invitation.MAX_WRONG_ID_NUMBERS
# Accounts created by accepting an invitation have no email address (parties are
# reached by SMS). User.email is still required and unique, so such an account gets a
# reserved address (RFC 2606 ".invalid") that is never mailed, like the service
# accounts of API tokens (mediation.notifications skips them).
sms_templates.register(
    "invitation",
    gettext_lazy(
        "%(court)s invites you to take part in mediation case %(number)s for the %(side)s. Open this link within "
        "%(days)s days; a code texted to this number lets you in: %(link)s"
    ),
)


# Roles held by someone other than the party, who proves their own identity (their own
# number and code), never the party's ID number.
ROLES_BESIDE_THE_PARTY = (ParticipantRole.GUARDIAN, ParticipantRole.INTERPRETER, ParticipantRole.HELPER)


class InvitationInvalid(DomainError):
    """The link cannot be used; `code` says why (unknown, expired, accepted, revoked,
    case_closed, no_phone, locked, court_staff, account_closed, second_factor,
    other_person)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL + reverse("invitation", args=[raw_token])


def needs_id_number(invitation: Invitation) -> bool:
    """Whether accepting needs the party's resident ID number: the one rule the page
    and the service ask. Only the party in person, a natural person whose number the
    court recorded, is asked it; an agent, a representative, a guardian, an interpreter
    or a helper proves their own identity (a code texted to their own number) and is
    never asked the party's."""
    party = invitation.party
    return invitation.role == ParticipantRole.PARTY and party.kind == Party.Kind.PERSON and bool(party.id_number_hash)


def _invited_name(*, party: Party, role: str, full_name: str) -> str:
    name = full_name.strip()
    if not name and role == ParticipantRole.PARTY and party.kind == Party.Kind.PERSON:
        name = party.name
    return name


def _refuse_the_partys_own_number(*, party: Party, role: str, phone: str) -> None:
    """A guardian, an interpreter or a helper proves their own identity, with a code
    texted to their own number: the party's number would admit the party's account
    (one number, one account) instead of theirs."""
    if role not in ROLES_BESIDE_THE_PARTY or not party.phone:
        return
    try:
        same = phones.to_mobile_e164(party.phone) == phone
    except ValidationError:
        same = False
    if same:
        raise ValidationError(
            {
                "phone": _(
                    "This is the party's own mobile number. Give the number of the person you invite: they prove "
                    "their own identity with a code texted there."
                )
            }
        )


@transaction.atomic
def invite_participant(
    *,
    case: MediationCase,
    actor: User | None,
    party: Party,
    role: str,
    phone: str = "",
    email: str = "",
    full_name: str = "",
) -> tuple[Invitation, str]:
    """Create an invitation naming the person's mobile number and text them its link
    (also emailed when an address is given). Without a number, the party's own is
    used for the party in person. Returns the raw token once, so the mediator can
    still hand the link over another way."""
    case = lock_case_for_action(case, actor, "invite")
    errors = {}
    if party.case_id != case.pk:
        errors["party"] = _("This party belongs to another case.")
    if role not in ParticipantRole.values:
        errors["role"] = _("Choose the person's role.")
    elif role == ParticipantRole.GUARDIAN and party.kind != Party.Kind.PERSON:
        errors["role"] = _(
            "A guardian acts for a natural person only: an organisation acts through its legal representative or "
            "an agent."
        )
    if errors:
        raise ValidationError(errors)
    if not str(phone or "").strip() and role == ParticipantRole.PARTY:
        phone = party.phone or ""
    if not str(phone or "").strip():
        raise ValidationError(
            {
                "phone": _(
                    "Give the invited person's mobile number: the invitation is texted there, and accepting it "
                    "needs a code sent to it."
                )
            }
        )
    phone = phones.to_mobile_e164(phone)
    _refuse_the_partys_own_number(party=party, role=role, phone=phone)
    full_name = _invited_name(party=party, role=role, full_name=full_name)
    if not full_name:
        raise ValidationError({"full_name": _("Give the name of the person you invite: their account bears it.")})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        case=case,
        party=party,
        role=role,
        phone=phone,
        email=email.strip().lower(),
        full_name=full_name,
        token_hash=hash_token(raw),
        created_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    record_case_event(
        case,
        actor=actor,
        action="invite",
        data={"invitation": invitation.pk, "party": party.name, "role": role, "email": invitation.email},
    )
    link = invitation_url(raw)
    _text_invitation(invitation, link)
    if invitation.email:
        transaction.on_commit(lambda: _send_invitation_email(invitation, link))
    # Someone who already has an account with this number, verified (or this address,
    # verified), also hears of it in the app; the link itself stays in the SMS, since
    # only the token's hash is kept.
    notify(
        recipients=_accounts_reached(invitation),
        kind="case.invited",
        params={"number": case.number},
        email=False,
    )
    return invitation, raw


def _accounts_reached(invitation: Invitation):
    accounts = User.objects.filter(phone=invitation.phone, phone_verified_at__isnull=False, is_active=True)
    if invitation.email:
        accounts = accounts | User.objects.filter(
            emailaddress__email__iexact=invitation.email, emailaddress__verified=True, is_active=True
        )
    return accounts.distinct()


def _text_invitation(invitation: Invitation, link: str) -> None:
    """The invitation by SMS, in the court's language (the person's is not known yet):
    queued with this transaction, sent once it commits."""
    language = settings.SMS_DEFAULT_LANGUAGE
    with translation.override(language):
        params = {
            "court": settings.COURT_NAME,
            "number": invitation.case.number,
            "side": str(invitation.party.get_side_display()),
            "days": settings.INVITATION_VALID_DAYS,
            "link": link,
        }
    send_sms(invitation.phone, "invitation", params, language=language)


def _send_invitation_email(invitation: Invitation, link: str) -> None:
    """The invitation as the invitation page words it: the court, the case, the
    person's side (whom they act for only when that is someone else), and the court's
    number to check that it is genuine."""
    case, party = invitation.case, invitation.party
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Invitation to mediation case %(number)s") % {"number": case.number}
        facts = {
            "court": settings.COURT_NAME,
            "mediator": case.mediator,
            "number": case.number,
            "side": party.get_side_display(),
            "party": party.name,
        }
        if invitation.role == ParticipantRole.PARTY:
            invited = _(
                "%(mediator)s, mediator at %(court)s, invites you, as the %(side)s, to take part in "
                "pre-litigation mediation case %(number)s."
            )
        else:
            invited = _(
                "%(mediator)s, mediator at %(court)s, invites you to take part in pre-litigation mediation case "
                "%(number)s for the %(side)s, %(party)s."
            )
        body = "\n\n".join(
            [
                invited % facts,
                _(
                    "Open this link within %(days)s days to join; a code we text to %(phone)s lets you in, and the "
                    "link works once:\n%(link)s"
                )
                % {"days": settings.INVITATION_VALID_DAYS, "link": link, "phone": phones.mask(invitation.phone)},
                _(
                    "To check that this invitation is genuine, call %(court)s at %(phone)s. The court will never ask "
                    "you for money or bank details."
                )
                % {"court": settings.COURT_NAME, "phone": settings.COURT_CONTACT_PHONE},
            ]
        )
        subject, body = signed_by_the_court(subject, body)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor: User | None) -> Invitation:
    case = lock_case_for_action(invitation.case, actor, "invite")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state() != "open":
        raise TransitionNotAllowed(_("Only an invitation that is still open can be withdrawn."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_case_event(case, actor=actor, action="revoke_invitation", data={"invitation": invitation.pk})
    return invitation


INVALID_MESSAGES = {
    "unknown": gettext_lazy(
        "This invitation link is not valid. Check that you copied the whole link, or ask your mediator for a new one."
    ),
    "expired": gettext_lazy("This invitation has expired. Ask your mediator to send a new one."),
    "accepted": gettext_lazy("This invitation has already been used. Sign in to reach your case."),
    "revoked": gettext_lazy("This invitation was withdrawn by the mediator."),
    "case_closed": gettext_lazy("This mediation case is closed; the invitation can no longer be used."),
    "no_phone": gettext_lazy(
        "This invitation names no mobile number, so nobody can confirm it with a code. Ask your mediator for a new one."
    ),
    "locked": gettext_lazy(
        "Too many wrong ID numbers were given for this invitation, so it can no longer be used. Ask your mediator "
        "for a new one."
    ),
    "court_staff": gettext_lazy(
        "A court staff account cannot join a case for a party. The invited person joins with an account of their own."
    ),
    "account_closed": gettext_lazy(
        "The account with this mobile number is closed. Call the court to have it opened again."
    ),
    "second_factor": gettext_lazy(
        "The account with this mobile number is protected by a second factor. Sign in to it with your password and "
        "authenticator first, then open the invitation again."
    ),
    "signed_in_as_another": gettext_lazy(
        "You are signed in with an account that has another mobile number. Sign out first: the invited person "
        "joins with an account of their own."
    ),
    "other_person": gettext_lazy(
        "The account with this mobile number bears another ID number than the one the court recorded for this "
        "party. Call the court."
    ),
}


def _invalid(code: str) -> InvitationInvalid:
    return InvitationInvalid(str(INVALID_MESSAGES[code]), code=code)


def check_invitation(raw_token: str, *, user: User | None = None) -> Invitation:
    """The open invitation for this token, or `InvitationInvalid` saying why not."""
    invitation = (
        Invitation.objects.select_related("case", "party").filter(token_hash=hash_token(raw_token or "")).first()
    )
    if invitation is None:
        raise _invalid("unknown")
    state = invitation.state()
    if state != "open":
        raise _invalid(state)
    if not invitation.case.is_open:
        raise _invalid("case_closed")
    if not invitation.phone:
        raise _invalid("no_phone")
    if user is not None and user.is_authenticated and is_court_staff(user):
        raise _invalid("court_staff")
    return invitation


def send_invitation_code(
    *, raw_token: str, user: User | None = None, client_address: str | None = None, language: str | None = None
) -> Invitation:
    """Text a one-time code to the invitation's number (never to one the visitor
    chooses), within the limits of `verification_codes` (CodeRefused says when to try
    again)."""
    invitation = check_invitation(raw_token, user=user)
    verification_codes.send_code(invitation.phone, CODE_PURPOSE, client_address=client_address, language=language)
    return invitation


@dataclass(frozen=True)
class Acceptance:
    participant: Participant
    # The account that joined: the signed-in one, the one this number belongs to
    # (the caller signs it in), or a new one.
    account: User
    created: bool


def _check_id_number(invitation: Invitation, given: str) -> str:
    """The ID number given, if it is the one recorded for the party; else a
    ValidationError on id_number. A wrong (but well-formed) number is counted on the
    invitation, committed at once, whatever the caller does next."""
    if not (given or "").strip():
        raise ValidationError({"id_number": _("Give your resident ID number: the court recorded it for this case.")})
    number = id_numbers.validate(given)
    if hmac.compare_digest(id_numbers.keyed_hash(number), invitation.party.id_number_hash):
        return number
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(wrong_id_numbers=F("wrong_id_numbers") + 1)
        wrong = Invitation.objects.values_list("wrong_id_numbers", flat=True).get(pk=invitation.pk)
    left = MAX_WRONG_ID_NUMBERS - wrong
    if left <= 0:
        message = _(
            "This is not the ID number the court recorded, and no more tries are left: ask your mediator for a new "
            "invitation."
        )
    else:
        message = ngettext(
            "This is not the ID number the court recorded. You can try %(count)d more time.",
            "This is not the ID number the court recorded. You can try %(count)d more times.",
            left,
        ) % {"count": left}
    raise ValidationError({"id_number": message})


def _account_for(invitation: Invitation, user: User | None) -> tuple[User, bool]:
    """Who joins: the account whose number the invited one is (verified), else the
    signed-in one, else a new account (not saved yet: created=True). An account that
    has the number typed in but never verified is not the holder's: the number is
    taken from it when the holder proves it (`release_unproved_number`)."""
    owner = User.objects.filter(phone=invitation.phone, phone_verified_at__isnull=False).first()
    if owner is not None:
        if is_court_staff(owner):
            raise _invalid("court_staff")
        if not owner.is_active:
            raise _invalid("account_closed")
        if owner != user:
            from allauth.mfa.utils import is_mfa_enabled

            # A code texted to the phone is not the second factor this account asks for.
            if is_mfa_enabled(owner):
                raise _invalid("second_factor")
        return owner, False
    if user is not None and user.is_authenticated:
        # A phone handed over signed in (a helper's, a relative's) must not make its
        # owner the invited party, nor lose the number its owner proved.
        if user.phone and user.phone_verified_at and str(user.phone) != str(invitation.phone):
            raise _invalid("signed_in_as_another")
        return user, False
    # A party may have no e-mail address: they sign in again with a code texted to
    # the number they have just proved.
    account = User(email=None, full_name=invitation.full_name)
    account.set_unusable_password()
    return account, True


def accept_invitation(*, raw_token: str, code: str, id_number: str = "", user: User | None = None) -> Acceptance:
    """Attach the person who holds the invited number to the invited party, once the
    code texted there (and, where needed, the party's ID number) is right.

    The code and the ID number are checked first, outside the acceptance's
    transaction, so that a wrong try is counted even though nothing else changes.
    Then the case and the invitation are locked, the invitation checked again (two
    tabs accepting the same link attach one person once), and the code spent."""
    invitation = check_invitation(raw_token, user=user)
    checked = verification_codes.check_code(invitation.phone, CODE_PURPOSE, code)
    number = _check_id_number(invitation, id_number) if needs_id_number(invitation) else ""
    with transaction.atomic():
        lock_case(invitation.case)
        Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation = check_invitation(raw_token, user=user)
        account, created = _account_for(invitation, user)
        if number and account.id_number_hash and account.id_number_hash != invitation.party.id_number_hash:
            raise _invalid("other_person")
        verification_codes.use_code(checked)
        release_unproved_number(phone=str(invitation.phone), keep=account)
        now = timezone.now()
        account.phone = invitation.phone
        account.phone_verified_at = now
        if number and not account.id_number:
            account.id_number = number
        if not account.full_name:
            account.full_name = invitation.full_name
        if created:
            account.save()
        else:
            account.save(update_fields=["phone", "phone_verified_at", "id_number", "full_name"])
        participant = attach_participant(
            case=invitation.case, party=invitation.party, user=account, role=invitation.role, actor=account
        )
        invitation.accepted_at = now
        invitation.accepted_by = account
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        notify(
            recipients=[invitation.case.mediator],
            kind="case.joined",
            params={"number": invitation.case.number, "name": str(account)},
            url=case_url(invitation.case),
            email=False,
        )
    return Acceptance(participant=participant, account=account, created=created)
