"""Invitations: the only way a party's person gets an account and rights in a case.

A token is 32 random bytes shown once in a link; only its SHA-256 is stored. An
expired, used, revoked or altered token attaches nobody. An invitation sent to an
address admits only an account that has proved it controls that address (a verified
address, or the sign-up that followed the link sent there); no invitation admits a
court staff account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.errors import DomainError, TransitionNotAllowed
from mediation.models import Invitation, MediationCase, Participant, Party, User
from mediation.models.cases import ParticipantRole
from mediation.notifications import notify, signed_by_the_court
from mediation.roles import is_court_staff
from mediation.services.cases import (
    attach_participant,
    case_url,
    lock_case,
    lock_case_for_action,
    record_case_event,
)


class InvitationInvalid(DomainError):
    """The link cannot be used; `code` says why (unknown, expired, accepted, revoked,
    case_closed, wrong_account, unverified_address, court_staff)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL + reverse("invitation", args=[raw_token])


@transaction.atomic
def invite_participant(
    *, case: MediationCase, actor: User | None, party: Party, role: str, email: str = "", full_name: str = ""
) -> tuple[Invitation, str]:
    """Create an invitation and email its link when an address is given. Returns the
    raw token once, so the mediator can also send the link by SMS or WeChat."""
    case = lock_case_for_action(case, actor, "invite")
    errors = {}
    if party.case_id != case.pk:
        errors["party"] = _("This party belongs to another case.")
    if role not in ParticipantRole.values:
        errors["role"] = _("Choose the person's role.")
    if errors:
        raise ValidationError(errors)
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        case=case,
        party=party,
        role=role,
        email=email.strip().lower(),
        full_name=full_name.strip(),
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
    if invitation.email:
        link = invitation_url(raw)
        transaction.on_commit(lambda: _send_invitation_email(invitation, link))
        # Someone who already has an account with this address, verified, also hears
        # of it in the app (an account merely claiming the address learns nothing of
        # the case); the link itself stays in the email, since only the token's hash
        # is kept.
        notify(
            recipients=User.objects.filter(
                emailaddress__email__iexact=invitation.email, emailaddress__verified=True, is_active=True
            ).distinct(),
            kind="case.invited",
            params={"number": case.number},
            email=False,
        )
    return invitation, raw


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
                _("Open this link within %(days)s days to create your account or sign in; it works once:\n%(link)s")
                % {"days": settings.INVITATION_VALID_DAYS, "link": link},
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
    "wrong_account": gettext_lazy("This invitation was sent to another email address. Sign in with that address."),
    "unverified_address": gettext_lazy(
        "This invitation was sent to an address your account has not confirmed yet. Confirm the address from your "
        "account's email page (we send a link to it), then open the invitation again."
    ),
    "court_staff": gettext_lazy(
        "A court staff account cannot join a case for a party. The invited person joins with an account of their own."
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
    if user is not None and user.is_authenticated:
        if is_court_staff(user):
            raise _invalid("court_staff")
        if invitation.email:
            address = address_state(user, invitation.email)
            if address != "verified":
                raise _invalid("unverified_address" if address == "unverified" else "wrong_account")
    return invitation


def address_state(user: User, email: str) -> str:
    """Whether `user` has proved control of `email` ("verified"), only claims it
    ("unverified": typed in at sign-up or added to the account, unconfirmed) or has
    another address ("other"). With email verification off, anyone can add any
    address to their account and make it their primary one, so only allauth's
    verified flag counts."""
    from allauth.account.models import EmailAddress

    verified = [address.verified for address in EmailAddress.objects.filter(user=user, email__iexact=email.strip())]
    if any(verified):
        return "verified"
    if verified or (user.email or "").lower() == email.strip().lower():
        return "unverified"
    return "other"


@transaction.atomic
def accept_invitation(*, raw_token: str, user: User) -> Participant:
    """Attach the signed-in user to the invited party. The invitation row is locked,
    so two tabs accepting the same link attach one person once."""
    invitation = check_invitation(raw_token, user=user)
    lock_case(invitation.case)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    check_invitation(raw_token, user=user)
    participant = attach_participant(
        case=invitation.case, party=invitation.party, user=user, role=invitation.role, actor=user
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if not user.full_name and invitation.full_name:
        user.full_name = invitation.full_name
        user.save(update_fields=["full_name"])
    notify(
        recipients=[invitation.case.mediator],
        kind="case.joined",
        params={"number": invitation.case.number, "name": str(user)},
        url=case_url(invitation.case),
        email=False,
    )
    return participant
