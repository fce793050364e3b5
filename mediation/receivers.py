"""Accounts: a person who signs up through an invitation joins the case at once.
The database: reference data is restored after every migrate or flush."""

from allauth.account.signals import user_signed_up
from django.db.models.signals import post_migrate
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


@receiver(post_migrate)
def restore_reference_data(sender, app_config=None, using="default", **kwargs):
    if app_config is None or app_config.name != "mediation":
        return
    from django.contrib.auth.models import Group

    from mediation.models import CalendarDay, CalendarYear, DeadlinePolicy
    from mediation.reference_data import ensure_reference_data

    ensure_reference_data(
        group_model=Group,
        policy_model=DeadlinePolicy,
        calendar_day_model=CalendarDay,
        calendar_year_model=CalendarYear,
    )
