"""Accounts: a person who signs up through an invitation joins the case at once."""

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from mediation.adapters import INVITATION_SESSION_KEY
from mediation.errors import DomainError
from mediation.services.invitations import accept_invitation


@receiver(user_signed_up)
def join_invited_case(sender, request, user, **kwargs):
    token = request.session.pop(INVITATION_SESSION_KEY, None)
    if not token:
        return
    try:
        participant = accept_invitation(raw_token=token, user=user)
    except DomainError:
        # The account stays; the invitation page explains what went wrong when the
        # person follows the link again.
        return
    request.joined_case_id = participant.case_id
