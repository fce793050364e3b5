"""A case's documents: the documents page, uploads, and downloads."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import selectors
from documents.access import can_view_document, side_of, visible_documents, visible_services
from documents.forms import ConsentForm, ServeForm, UploadForm
from documents.models import Document
from documents.services import serving
from documents.services.recordings import may_decide_parties_access
from documents.services.storage import documents_storage, read_blob
from documents.services.uploads import too_large, upload_document
from documents.views.common import case_or_404, file_response
from mediation.client_address import client_ip
from mediation.errors import DomainError
from mediation.models import Participant
from mediation.participation import PARTY_STANDINGS, signs_nothing
from mediation.views.forms import attach_errors


@login_required
def case_documents(request, case_id):
    case = case_or_404(request, case_id)
    side = side_of(request.user, case)
    participant = Participant.active.filter(case=case, user=request.user).first()
    consent = selectors.consent_of(case, request.user) if participant else None
    return render(
        request,
        "documents/case_documents.html",
        {
            "case": case,
            "side": side,
            "documents": visible_documents(request.user, case),
            "upload_form": UploadForm() if case.is_open and side in ("mediator", *PARTY_STANDINGS) else None,
            "serve_form": ServeForm(case=case) if side == "mediator" and case.is_open else None,
            "consent_form": ConsentForm(initial={"email": request.user.email})
            if participant and consent is None and not signs_nothing(participant.role)
            else None,
            "consent": consent,
            "services": visible_services(request.user, case),
            "agreement": selectors.latest_agreement(case),
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
            # The court's decision whether the parties may see the rooms' recordings.
            "may_decide_recordings": may_decide_parties_access(request.user, case),
        },
    )


@login_required
@require_POST
def upload(request, case_id):
    case = case_or_404(request, case_id)
    form = UploadForm(request.POST, request.FILES)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            if uploaded.size > settings.DOCUMENT_MAX_BYTES:
                raise too_large()
            document = upload_document(
                case=case,
                actor=request.user,
                data=uploaded.read(),
                filename=uploaded.name,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                visibility=form.cleaned_data["visibility"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if wants_json:
                return JsonResponse(
                    {"id": document.pk, "title": document.title, "sha256": document.blob_id}, status=201
                )
            messages.success(request, _("“%(title)s” was uploaded.") % {"title": document.title})
            return redirect("case_documents", case_id=case.pk)
    if wants_json:
        return JsonResponse({"errors": {field: list(errors) for field, errors in form.errors.items()}}, status=400)
    messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    return redirect("case_documents", case_id=case.pk)


@login_required
def document_file(request, document_id):
    document = selectors.document_with_blob(document_id)
    if document is None or not can_view_document(request.user, document):
        raise Http404
    for service in selectors.services_delivered_to(request.user, document):
        serving.mark_opened(service=service, user=request.user, ip=client_ip(request))
    if document.kind == Document.Kind.RECORDING:
        # A recording may be large: streamed from the storage, not read into memory.
        return recording_response(document)
    # Always a download, never shown in the platform's origin: a PDF someone in the
    # case uploaded may carry JavaScript, and the browser's viewer would run it here.
    return file_response(read_blob(document.blob), document.blob.content_type, document.original_name)


def recording_response(document):
    from django.http import FileResponse

    from documents.filenames import attachment

    response = FileResponse(
        documents_storage().open(document.blob.storage_name, "rb"), content_type=document.blob.content_type
    )
    response["Content-Disposition"] = attachment(document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
