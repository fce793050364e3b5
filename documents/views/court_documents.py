"""A court document's page (its places, who signed, the form to sign one's own) and
its PDF, for whoever may see the case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from documents.access import can_view_court_document
from documents.filenames import court_document_filename
from documents.forms import CourtDocumentSignForm
from documents.models import CourtDocument
from documents.reauthentication import (
    Reauthentication,
    signing_attempt_allowed,
    signing_succeeded,
    signs_by_sms,
    uses_totp,
)
from documents.services import court_documents
from documents.services.storage import read_blob
from documents.views.common import case_or_404, decode_png, file_response, redrawable, show_signing_refusal
from mediation import phones
from mediation.client_address import client_ip
from mediation.errors import DomainError
from mediation.verification_codes import CodeRefused


def _document(request, document_id) -> CourtDocument:
    """The document, for whoever may see its case (404 to anyone else)."""
    document = CourtDocument.objects.select_related("case").filter(pk=document_id).first()
    if document is None:
        raise Http404
    case_or_404(request, document.case_id)
    if not can_view_court_document(request.user, document):
        raise Http404
    return document


def _form(request, document, slots, data=None):
    labelled = [{**entry, "label": court_documents.slot_label(entry)} for entry in slots]
    return CourtDocumentSignForm(
        data,
        slots=labelled,
        initial={"version_hash": document.content_hash, "slot": slots[0]["slot"] if slots else None},
    )


@login_required
def court_document_sign(request, document_id):
    """The document's page: what it is, its places and who signed, the PDF, and for
    a signer whose turn it is the form to sign (drawn or typed, re-authenticated)."""
    document = _document(request, document_id)
    slots = court_documents.court_document_signer_slots(document, request.user)
    form = _form(request, document, slots, request.POST or None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and request.POST.get("send_code"):
        status = _send_code(request, document)
        form = _form(request, document, slots)
        form.initial.update({k: request.POST.get(k) for k in ("slot", "method") if request.POST.get(k)})
    elif request.method == "POST" and not slots:
        messages.error(request, _("There is nothing for you to sign now."))
        status = 403
    elif request.method == "POST" and form.is_valid() and not signing_attempt_allowed(request):
        form.add_error(None, _("Too many wrong passwords or codes. Nothing was signed. Try again in a few minutes."))
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            court_documents.sign_court_document(
                document=document,
                actor=request.user,
                slot=data["slot"],
                content_hash=data["version_hash"],
                method=data["method"],
                image_png=decode_png(data["signature"]) if data["method"] == "drawn" else None,
                reauthentication=Reauthentication(
                    password=data["password"], totp_code=data["totp_code"], sms_code=data["sms_code"]
                ),
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except (ValidationError, PermissionDenied, DomainError) as error:
            show_signing_refusal(form, error)
        else:
            signing_succeeded(request)
            document.refresh_from_db()
            if document.is_sealed:
                messages.success(request, _("You signed. Everyone has signed: the document is sealed."))
            else:
                messages.success(request, _("You signed. The document is sealed once everyone has signed."))
            return redirect("court_document_sign", document_id=document.pk)
    by_sms = signs_by_sms(request.user)
    reading_template, reading = court_documents.reading_of(document)
    return render(
        request,
        "documents/court_document_sign.html",
        {
            "document": document,
            "case": document.case,
            "form": form,
            "may_sign": bool(slots),
            "places": court_documents.labelled_slots(document),
            "authority_refusals": court_documents.authority_refusals(document, request.user),
            "reading_template": reading_template,
            "reading": reading,
            "uses_totp": uses_totp(request.user),
            "signs_by_sms": by_sms,
            "masked_phone": phones.mask(request.user.phone) if by_sms else "",
            "signature_to_redraw": redrawable(request.POST.get("signature", "")) if request.method == "POST" else "",
            **_paper_signature(request, document),
        },
        status=status,
    )


def _paper_signature(request, document) -> dict:
    """For the mediator of a mediation record waiting for signatures: the form to
    record a party's signature on a paper copy (documents.views.mediation_records)."""
    if document.kind != CourtDocument.Kind.MEDIATION_RECORD or not document.allows("sign"):
        return {}
    from documents.forms_in_person import RecordPaperSignatureForm
    from documents.services import mediation_records

    record = mediation_records.record_of_document(document)
    if record is None or not mediation_records.may_write(request.user, document.case):
        return {}
    parties = document.case.parties.filter(pk__in=[e["party"] for e in document.signature_slots if e.get("party")])
    return {"paper_form": RecordPaperSignatureForm(parties=parties), "record": record}


def _send_code(request, document) -> int:
    try:
        masked = court_documents.send_court_document_code(
            request.user, document, client_address=client_ip(request), language=translation.get_language()
        )
    except (DomainError, PermissionDenied) as error:
        # Nothing to sign now, no verified number, or the codes' limits.
        messages.error(request, str(error))
        return 429 if isinstance(error, CodeRefused) else 403
    messages.success(
        request,
        _("A 6-digit code was texted to %(phone)s. Type it below within 5 minutes, then sign.") % {"phone": masked},
    )
    return 200


@login_required
def court_document_pdf(request, document_id, which):
    """The sealed document, or the latest revision (with the signatures so far)."""
    document = _document(request, document_id)
    blob = {"sealed": document.sealed_blob, "latest": document.latest_blob}.get(which)
    if blob is None:
        raise Http404
    return file_response(read_blob(blob), "application/pdf", court_document_filename(document, which))
