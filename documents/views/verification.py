"""Public verification: a sealed agreement's record by its code, a brought PDF checked,
and the platform's certificate authority."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from documents import selectors
from documents.agreement_rendering import paper_signature_rows
from documents.pki import load_platform_pki
from documents.services import court_documents
from documents.verification import verify_pdf
from mediation import throttle
from mediation.client_address import client_ip
from mediation.models import side_label


def mask_name(name: str) -> str:
    """Enough of a party's name to recognise it, not enough to learn it."""
    if len(name) <= 2:
        return name[:1] + "*"
    keep = 2 if len(name) > 6 else 1
    return name[:keep] + "*" * (len(name) - 2 * keep) + name[-keep:]


def _verify_refused(request, error: str, *, status: int, wants_json: bool) -> HttpResponse:
    if wants_json:
        return JsonResponse({"error": error}, status=status)
    return render(request, "documents/verify.html", {"report": None, "error": error}, status=status)


@csrf_exempt
def verify_upload(request):
    """Bring a PDF: is it the sealed original, and do its signatures hold? Public; a
    pure check that changes nothing, so it takes posts without a session. Each client
    address may check VERIFY_THROTTLE_REQUESTS files a window; what one check may cost
    is bounded in documents.verification."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    report = error = None
    if request.method == "POST":
        allowed, retry_after = throttle.allow(
            scope="verify",
            address=client_ip(request),
            limit=settings.VERIFY_THROTTLE_REQUESTS,
            window=settings.VERIFY_THROTTLE_WINDOW_SECONDS,
        )
        if not allowed:
            response = _verify_refused(
                request,
                _("Too many files were checked from your address. Try again in %(seconds)s seconds.")
                % {"seconds": retry_after},
                status=429,
                wants_json=wants_json,
            )
            response["Retry-After"] = str(retry_after)
            return response
        uploaded = request.FILES.get("file")
        if uploaded is None:
            error = _("Choose a PDF file.")
        elif uploaded.size > settings.VERIFY_MAX_BYTES:
            error = _("The file is too large to be one of the platform's documents.")
        else:
            report = verify_pdf(uploaded.read())
            if not report.readable:
                error = _("This is not a readable PDF file.")
            elif report.too_complex:
                error = _(
                    "This file is too complex to verify here: it has more signatures or revisions, or needs more "
                    "work to check, than any document the platform seals. Nothing is said about its signatures."
                )
        if error:
            return _verify_refused(request, error, status=400, wants_json=wants_json)
        if wants_json:
            return JsonResponse(report.as_json())
    return render(request, "documents/verify.html", {"report": report, "error": error})


def verify_record(request, code):
    agreement = selectors.agreement_by_verification_code(code)
    if agreement is not None:
        # Who signed is told only once the agreement is sealed.
        signatures = selectors.live_signatures(agreement.current_version) if agreement.is_sealed else []
        paper = selectors.paper_signatures(agreement.current_version) if agreement.is_sealed else []
        return _record_page(request, code, agreement, signatures, paper=paper)
    court_document = selectors.court_document_by_verification_code(code)
    if court_document is not None:
        signatures = (
            list(court_document.signatures.select_related("signer", "party")) if court_document.is_sealed else []
        )
        paper = court_documents.paper_signatures(court_document) if court_document.is_sealed else []
        return _record_page(request, code, court_document, signatures, court_document=court_document, paper=paper)
    return render(
        request, "documents/verify_record.html", {"code": code, "record": None, "court_document": None}, status=404
    )


def _record_page(request, code, record, signatures, *, court_document=None, paper=()):
    """A sealed record's page, an agreement's or a court document's: what it is, in
    which case, between whom, and once it is sealed who signed it (names masked)."""
    parties = [{"side": side_label(party.side), "name": mask_name(party.name)} for party in record.case.parties.all()]
    return render(
        request,
        "documents/verify_record.html",
        {
            "record": record,
            "court_document": court_document,
            "code": code,
            "parties": parties,
            "signatures": [
                {
                    "name": mask_name(str(s.signer)),
                    "role": s.role,
                    "party": mask_name(s.party.name) if s.party else "",
                    "at": s.signed_at,
                    "identity_level": s.identity_level,
                }
                for s in signatures
            ],
            # Signatures on a paper copy, in person: who signed (masked), where, when,
            # witnessed and confirmed by whom, and the scan's fingerprint.
            "paper_signatures": [
                {
                    **row,
                    "person": mask_name(row["person"]),
                    "party": mask_name(row["party"]),
                    "witness": mask_name(row["witness"]),
                    "confirmed_by": mask_name(row["confirmed_by"]),
                }
                for row in paper_signature_rows(paper)
            ],
        },
    )


def authority_certificate(request):
    pem = load_platform_pki().authority.certificate_pem
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = content_disposition_header(True, "mediation-platform-ca.pem")
    return response
