"""The performance page (履行): a case's obligations, their steps and evidence, and the
actions the reader may take right there."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.access import visible_documents
from documents.forms import ReasonForm, ReportPerformedForm, UrgeForm
from documents.performance_rules import available_actions
from documents.selectors_performance import obligation_with_case, obligations_with_steps
from documents.services import enforcement, performance
from documents.services.uploads import too_large
from documents.views.common import error_text
from mediation.errors import DomainError
from mediation.selectors.cases import case_for


def _case_or_404(request, case_id):
    """The case, for its parties' people, its mediator and judge and the court staff
    who may see it (the one case access rule); 404 for anyone else."""
    case = case_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


@login_required
def case_performance(request, case_id):
    case = _case_or_404(request, case_id)
    obligations = obligations_with_steps(case)
    today = performance.local_today()
    visible = set(visible_documents(request.user, case).values_list("pk", flat=True))
    rows = [
        {
            "obligation": obligation,
            "actions": available_actions(request.user, obligation),
            "days_overdue": performance.days_overdue(obligation, today)
            if obligation.status == obligation.Status.OVERDUE
            else 0,
            "steps": [
                {"step": step, "evidence": [d for d in step.evidence.all() if d.pk in visible]}
                for step in obligation.steps.all()
            ],
            # Prefixed per obligation: one page holds a form of each kind per obligation.
            "report_form": ReportPerformedForm(case=case, prefix=f"o{obligation.pk}"),
            "dispute_form": ReasonForm(prefix=f"o{obligation.pk}"),
            "urge_form": UrgeForm(prefix=f"o{obligation.pk}"),
        }
        for obligation in obligations
    ]
    return render(
        request,
        "documents/performance.html",
        {
            "case": case,
            "rows": rows,
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
            # The way to the application for enforcement, for whom it is open now.
            "may_apply_for_enforcement": enforcement.reader_refusal(request.user, case) is None,
        },
    )


@login_required
@require_POST
def obligation_action(request, obligation_id, action):
    obligation = obligation_with_case(obligation_id)
    if obligation is None:
        raise Http404
    case = _case_or_404(request, obligation.case_id)
    back = redirect("case_performance", case_id=case.pk)
    try:
        if action == "report":
            form = ReportPerformedForm(request.POST, request.FILES, case=case, prefix=f"o{obligation.pk}")
            # Who may, and in which state, before what they sent (the same as the API).
            performance.check_action(obligation, request.user, "report_performed")
            if not form.is_valid():
                messages.error(
                    request,
                    " ".join(
                        f"{form.fields[name].label}: {message}" if name in form.fields else message
                        for name, errors in form.errors.items()
                        for message in errors
                    ),
                )
                return back
            receipt = form.cleaned_data["receipt"]
            if receipt is not None and receipt.size > settings.DOCUMENT_MAX_BYTES:
                raise too_large()
            performance.report_performed(
                obligation=obligation,
                actor=request.user,
                performed_on=form.cleaned_data["performed_on"],
                note=form.cleaned_data["note"],
                evidence=list(form.cleaned_data["evidence"]),
                receipt=receipt.read() if receipt is not None else None,
                receipt_name=receipt.name if receipt is not None else "",
            )
            messages.success(request, _("Your report is recorded; the other side is asked to confirm it."))
        elif action == "confirm":
            performance.confirm_performance(obligation=obligation, actor=request.user)
            messages.success(request, _("You confirmed that it is performed."))
        elif action == "dispute":
            form = ReasonForm(request.POST, prefix=f"o{obligation.pk}")
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            performance.dispute_performance(obligation=obligation, actor=request.user, reason=reason)
            messages.success(request, _("Your dispute is recorded; the other side and the mediator are told."))
        elif action == "urge":
            form = UrgeForm(request.POST, prefix=f"o{obligation.pk}")
            note = form.cleaned_data["note"] if form.is_valid() else ""
            performance.urge_performance(obligation=obligation, actor=request.user, note=note)
            messages.success(request, _("What you did to urge performance is recorded; the debtor's side is told."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error_text(error))
    except DomainError as error:
        messages.error(request, error.message)
    # ActionForbidden (someone else's obligation to answer) is a 403, as elsewhere.
    return back
