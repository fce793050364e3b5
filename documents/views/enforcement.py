"""The obligee's application for enforcement: what the package will hold and who may
make it (GET), and making it (POST), which leads to its download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from documents.access import visible_documents
from documents.models import Document, Obligation
from documents.services import enforcement
from documents.views.common import case_or_404
from mediation.errors import ActionForbidden, DomainError


@login_required
def case_enforcement(request, case_id):
    case = case_or_404(request, case_id)
    obligee = enforcement.obligee_for(request.user, case)
    refusal = enforcement.reader_refusal(request.user, case)
    if request.method == "POST":
        if isinstance(refusal, ActionForbidden):
            raise PermissionDenied(str(refusal))
        try:
            court_document = enforcement.apply_for_enforcement(case=case, actor=request.user, obligee=obligee)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("case_enforcement", case.pk)
        messages.success(
            request,
            _("Your application for enforcement is ready, sealed by the platform. Verification code: %(code)s.")
            % {"code": court_document.verification_code},
        )
        return redirect("document_file", enforcement.enforcement_document(court_document).pk)
    context = {
        "case": case,
        "obligee": obligee,
        "refusal": getattr(refusal, "message", None) or (str(refusal) if refusal else ""),
        "refusal_code": getattr(refusal, "code", "forbidden") if refusal else "",
        "applies": refusal is None,
    }
    if not isinstance(refusal, ActionForbidden):
        # The obligee's people only: what the package will hold, and what they made before.
        agreement = enforcement.sealed_agreement_of(case)
        confirmation = enforcement.confirmation_of(agreement)
        context.update(
            agreement=agreement,
            confirmation=confirmation,
            overdue=enforcement.overdue_obligations(agreement, obligee).select_related("obligor"),
            obligations=Obligation.objects.filter(agreement=agreement).select_related("obligor", "obligee")
            if agreement
            else [],
            attachments=enforcement.attachments_of(case, agreement, confirmation, obligee, for_reader=True)
            if confirmation
            else [],
            applications=visible_documents(request.user, case).filter(
                kind=Document.Kind.ENFORCEMENT_APPLICATION, party=obligee
            ),
        )
    return render(request, "documents/enforcement.html", context, status=200)
