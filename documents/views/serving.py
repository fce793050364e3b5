"""Service of documents (送达): serving, consent to electronic service, the recipient's
steps and the proof of service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import selectors
from documents.access import sees_service_addresses, visible_services
from documents.filenames import proof_of_service_filename
from documents.forms import ConsentForm, ReasonForm, ServeForm
from documents.models import Service
from documents.services import serving
from documents.views.common import case_or_404, error_text, file_response
from mediation.client_address import client_ip
from mediation.errors import DomainError


@login_required
@require_POST
def serve(request, case_id):
    case = case_or_404(request, case_id)
    form = ServeForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("case_documents", case_id=case.pk)
    data = form.cleaned_data
    try:
        if data["method"] == Service.Method.ELECTRONIC:
            service = serving.serve_electronically(
                case=case,
                actor=request.user,
                recipient=data["recipient"].user,
                documents=list(data["documents"]),
                acknowledge_days=data["acknowledge_days"],
                note=data["note"],
                ip=client_ip(request),
            )
        else:
            service = serving.record_service_by_other_means(
                case=case,
                actor=request.user,
                recipient=data["recipient"].user,
                documents=list(data["documents"]),
                method=data["method"],
                served_at=data["served_at"] or None,
                evidence=data["evidence"],
                note=data["note"],
                ip=client_ip(request),
            )
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("case_documents", case_id=case.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("case_documents", case_id=case.pk)
    messages.success(request, _("The documents were served."))
    return redirect("service_detail", service_id=service.pk)


@login_required
@require_POST
def consent(request, case_id):
    case = case_or_404(request, case_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            serving.record_consent(
                case=case, user=request.user, email=form.cleaned_data["email"], ip=client_ip(request)
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your consent to electronic service is recorded."))
    else:
        messages.error(request, _("Tick the box to consent."))
    return redirect("case_documents", case_id=case.pk)


def _service(request, service_id) -> Service:
    service = selectors.service_with_case(service_id)
    if service is None or not visible_services(request.user, service.case).filter(pk=service.pk).exists():
        raise Http404
    return service


@login_required
def service_detail(request, service_id):
    service = _service(request, service_id)
    return render(
        request,
        "documents/service_detail.html",
        {
            "service": service,
            "steps": service.steps.select_related("actor"),
            "documents": service.documents.select_related("blob"),
            "is_recipient": service.recipient_id == request.user.pk,
            "opened": service.status != Service.Status.DELIVERED,
            "show_addresses": sees_service_addresses(request.user, service.case),
            "awaiting": service.awaits_recipient,
            "refuse_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def service_action(request, service_id, action):
    service = _service(request, service_id)
    try:
        if action == "acknowledge":
            serving.acknowledge_service(service=service, user=request.user, ip=client_ip(request))
            messages.success(request, _("You acknowledged receipt of the documents."))
        elif action == "refuse":
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            serving.refuse_service(service=service, user=request.user, reason=reason, ip=client_ip(request))
            messages.success(request, _("Your refusal is recorded; the mediator is told."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error_text(error))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("service_detail", service_id=service.pk)


@login_required
def service_proof(request, service_id):
    service = _service(request, service_id)
    pdf = serving.proof_of_service(service, for_court=sees_service_addresses(request.user, service.case))
    return file_response(pdf, "application/pdf", proof_of_service_filename(service))
