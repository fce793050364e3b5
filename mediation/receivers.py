"""The database: reference data is restored after every migrate or flush, and an HTTP
request's connection ends with the request."""

from django.contrib.auth.signals import user_logged_in
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver


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


@receiver(request_finished, sender=ASGIHandler)
def close_the_requests_connections(sender, **kwargs):
    """Under ASGI each HTTP request runs its view in a thread of its own, which ends
    with the request, so a connection kept for reuse (CONN_MAX_AGE) is never reused:
    it stays open until the garbage collector finds the dead thread, and one person
    browsing exhausted PostgreSQL's connections. This runs in that request's thread, as
    Django's own `close_old_connections` does, and closes its connections whatever
    their age. The process's long-lived threads keep theirs: Channels' database
    thread, which serves every socket's queries, and the room writer's."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@receiver(user_logged_in)
def keep_large_type_when_signing_in(sender, request, user, **kwargs):
    """Someone who switched large type on before signing in (on an invitation, say)
    keeps it after: the session's choice goes onto the account."""
    from mediation.services.accounts import set_large_type
    from mediation.views.large_type import SESSION_KEY

    if request is not None and hasattr(request, "session") and request.session.get(SESSION_KEY):
        set_large_type(user=user, on=True)
