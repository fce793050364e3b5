"""The parties' application for judicial confirmation: starting it and withdrawing it
(signing it is the court document's page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.forms import ReasonForm
from documents.models import Agreement, JudicialConfirmation
from documents.services import confirmation as confirmations
from documents.views.common import case_or_404, error_text
from mediation.errors import DomainError


def _panel_url(case_id: int) -> str:
    return reverse("case_detail", args=[case_id]) + "#confirmation-heading"


@login_required
@require_POST
def confirmation_apply(request, agreement_id):
    agreement = Agreement.objects.select_related("case", "current_version").filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404
    case_or_404(request, agreement.case_id)
    try:
        confirmation = confirmations.apply_for_confirmation(agreement=agreement, actor=request.user)
    except DomainError as error:
        # Not possible now (not sealed, too late, applied already); who may not is refused (403).
        messages.error(request, error.message)
        return redirect(_panel_url(agreement.case_id))
    messages.success(
        request,
        _("The application for judicial confirmation is ready: every party signs it by %(date)s.")
        % {"date": confirmation.apply_by.isoformat()},
    )
    return redirect(_panel_url(agreement.case_id))


@login_required
@require_POST
def confirmation_withdraw(request, confirmation_id):
    confirmation = JudicialConfirmation.objects.select_related("case").filter(pk=confirmation_id).first()
    if confirmation is None:
        raise Http404
    case_or_404(request, confirmation.case_id)
    form = ReasonForm(request.POST)
    try:
        confirmations.withdraw_confirmation(
            confirmation=confirmation,
            actor=request.user,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You withdrew the application for judicial confirmation."))
    return redirect(_panel_url(confirmation.case_id))
