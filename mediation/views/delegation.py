"""The organisation admin's queue of delegated cases (/organisation/delegations/):
what waits for dispatch, with the form to dispatch each to one of the organisation's
assignable mediators (recommended first for the cause), and what waits for the
mediator's acceptance, with its time limit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mediation import policy
from mediation.errors import DomainError
from mediation.forms_delegation import DispatchDelegationForm, recommendation_notice
from mediation.models import Delegation
from mediation.selectors import delegation as selectors
from mediation.services import delegation as services
from mediation.views.forms import attach_errors


def _entries(user, bound: dict | None = None) -> list[dict]:
    entries = []
    for delegation in selectors.delegation_queue(user):
        form = None
        if delegation.status == Delegation.Status.AWAITING_DISPATCH:
            form = (bound or {}).get(delegation.pk) or DispatchDelegationForm(
                case=delegation.case, prefix=f"d{delegation.pk}"
            )
        entries.append(
            {
                "delegation": delegation,
                "form": form,
                "notice": recommendation_notice(form.recommendations, delegation.case.cause_of_action) if form else "",
            }
        )
    return entries


def _page(request, *, bound=None, status=200):
    return render(
        request,
        "mediation/delegation_queue.html",
        {
            "organisations": selectors.administered_organisations(request.user),
            "entries": _entries(request.user, bound),
            "returned": selectors.recently_returned(request.user),
        },
        status=status,
    )


@login_required
def delegation_queue(request):
    if not policy.can_see_delegation_queue(request.user):
        raise PermissionDenied
    return _page(request)


@login_required
@require_POST
def delegation_dispatch(request, delegation_id):
    """Dispatch one delegation from the queue; the service checks the admin is one of
    THAT organisation's and the mediator one of its assignable mediators."""
    if not policy.can_see_delegation_queue(request.user):
        raise PermissionDenied
    delegation = selectors.delegation_queue(request.user).filter(pk=delegation_id).first()
    if delegation is None:
        raise Http404
    form = DispatchDelegationForm(request.POST, case=delegation.case, prefix=f"d{delegation.pk}")
    if form.is_valid():
        try:
            services.dispatch_delegation(
                case=delegation.case, actor=request.user, mediator=form.cleaned_data["mediator"]
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("delegation_queue")
        else:
            messages.success(
                request,
                _("Mediation case %(number)s dispatched to %(name)s.")
                % {"number": delegation.case.number, "name": form.cleaned_data["mediator"]},
            )
            return redirect("delegation_queue")
    return _page(request, bound={delegation.pk: form}, status=400)
