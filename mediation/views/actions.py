"""The one way a page offers and takes the actions of `mediation.actions`: for work
orders and mediation cases alike, parse the action's form, call its service (which
authorises under the row lock), and render the outcome."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse

from mediation.actions import Action, ActionRegistry, OfferedAction
from mediation.errors import DomainError
from mediation.views.forms import attach_errors


def action_forms_context(
    registry: ActionRegistry, user, subject, bound_forms: dict | None = None, *, apart: tuple[str, ...] = ()
) -> dict:
    """What a page needs to list the actions `user` may take now: `offered_actions`
    for the template, each with its form (the bound one after a failed post), and
    `action_forms`, the same forms by action name. The actions named in `apart` are
    offered too but not listed: the page shows them with what they act on (a party),
    from `actions_apart`."""
    bound_forms = bound_forms or {}
    offered = [
        OfferedAction(
            action=action,
            form=bound_forms.get(action.name) or action.form(subject),
            url=registry.url(subject, action),
            notice=action.notice(subject) if action.notice else "",
        )
        for action in registry.offered(user, subject)
    ]
    return {
        "offered_actions": [item for item in offered if item.action.name not in apart],
        "action_forms": {item.action.name: item.form for item in offered},
        "actions_apart": {item.action.name: item for item in offered if item.action.name in apart},
    }


def take_action(
    request,
    registry: ActionRegistry,
    subject,
    name: str,
    *,
    render_page: Callable[..., HttpResponse],
    on_success: Callable[[Action, object], HttpResponse],
) -> HttpResponse:
    """Take the action `name` on `subject` from the posted form.

    Unknown action: 404. Invalid form or a service's ValidationError: the page again
    with the form's errors, 400. A state that does not allow it (DomainError): the
    page with the message, 409. A user who may not (ActionForbidden): 403, raised by
    the service. Otherwise `on_success(action, the service's result)`.
    `render_page(bound_forms=..., status=...)` renders the subject's page."""
    action = registry.get(name)
    if action is None:
        raise Http404
    form = action.form(subject, request.POST)
    if not form.is_valid():
        return render_page(bound_forms={name: form}, status=400)
    try:
        result = action.run(subject, request.user, form.cleaned_data)
    except ValidationError as error:
        attach_errors(form, error)
        return render_page(bound_forms={name: form}, status=400)
    except DomainError as error:
        messages.error(request, error.message)
        return render_page(status=409)
    return on_success(action, result)
