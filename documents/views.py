"""Pages for case documents, service of documents, the settlement agreement and its
public verification. Each view parses, authorises, calls one service, responds."""

from __future__ import annotations

import base64
import binascii

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from documents import throttle
from documents.access import (
    can_view_document,
    sees_service_addresses,
    side_of,
    visible_documents,
    visible_services,
)
from documents.agreement_rules import signing_options
from documents.forms import AgreementForm, ConsentForm, ReasonForm, ServeForm, SignForm, TermFormSet, UploadForm
from documents.models import Agreement, Document, Service, ServiceConsent, Signature
from documents.pki import load_platform_pki
from documents.reauthentication import signing_attempt_allowed, signing_succeeded
from documents.services import agreements
from documents.services import service as services
from documents.services.storage import read_blob
from documents.services.uploads import too_large, upload_document
from documents.verification import verify_pdf
from mediation.errors import DomainError
from mediation.models import MediationCase, Participant
from mediation.selectors.cases import case_for
from mediation.views.forms import attach_errors


def client_ip(request) -> str | None:
    """The client's address. Behind the platform's own reverse proxy (TRUSTED_PROXY
    set), the first X-Forwarded-For entry; otherwise the socket's peer."""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def _case(request, case_id) -> MediationCase:
    case = case_for(request.user, case_id)
    if case is None or (side_of(request.user, case) is None and not request.user.is_superuser):
        raise Http404
    return case


def _file_response(data: bytes, content_type: str, filename: str) -> HttpResponse:
    """A download (never shown inline in the platform's origin)."""
    response = HttpResponse(data, content_type=content_type)
    # Django quotes and escapes the name (a quote in it cannot add parameters) and
    # writes a Chinese name as RFC 6266 filename*, keeping the header itself ASCII.
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# -- documents -------------------------------------------------------------------------


@login_required
def case_documents(request, case_id):
    case = _case(request, case_id)
    side = side_of(request.user, case)
    participant = Participant.active.filter(case=case, user=request.user).first()
    consent = ServiceConsent.objects.filter(case=case, user=request.user).first() if participant else None
    return render(
        request,
        "documents/case_documents.html",
        {
            "case": case,
            "side": side,
            "documents": visible_documents(request.user, case),
            "upload_form": UploadForm() if case.is_open and side in ("mediator", "plaintiff", "defendant") else None,
            "serve_form": ServeForm(case=case) if side == "mediator" and case.is_open else None,
            "consent_form": ConsentForm(initial={"email": request.user.email})
            if participant and consent is None
            else None,
            "consent": consent,
            "services": visible_services(request.user, case),
            "agreement": case.agreements.order_by("-created_at").first(),
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
        },
    )


@login_required
@require_POST
def upload(request, case_id):
    case = _case(request, case_id)
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
    document = Document.objects.select_related("case", "blob").filter(pk=document_id).first()
    if document is None or not can_view_document(request.user, document):
        raise Http404
    for service in Service.objects.filter(recipient=request.user, documents=document, status=Service.Status.DELIVERED):
        services.mark_opened(service=service, user=request.user, ip=client_ip(request))
    # Always a download, never shown in the platform's origin: a PDF someone in the
    # case uploaded may carry JavaScript, and the browser's viewer would run it here.
    return _file_response(read_blob(document.blob), document.blob.content_type, document.original_name)


# -- service of documents -------------------------------------------------------------------


@login_required
@require_POST
def serve(request, case_id):
    case = _case(request, case_id)
    form = ServeForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("case_documents", case_id=case.pk)
    data = form.cleaned_data
    try:
        if data["method"] == Service.Method.ELECTRONIC:
            service = services.serve_electronically(
                case=case,
                actor=request.user,
                recipient=data["recipient"].user,
                documents=list(data["documents"]),
                ip=client_ip(request),
            )
        else:
            service = services.record_service_by_other_means(
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
        messages.error(request, " ".join(m for messages_ in error.message_dict.values() for m in messages_))
        return redirect("case_documents", case_id=case.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("case_documents", case_id=case.pk)
    messages.success(request, _("The documents were served."))
    return redirect("service_detail", service_id=service.pk)


@login_required
@require_POST
def consent(request, case_id):
    case = _case(request, case_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(
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
    service = Service.objects.select_related("case", "recipient").filter(pk=service_id).first()
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
            "show_addresses": sees_service_addresses(request.user, service.case),
            "awaiting": service.status in Service.AWAITING_RECIPIENT and service.method == Service.Method.ELECTRONIC,
            "refuse_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def service_action(request, service_id, action):
    service = _service(request, service_id)
    try:
        if action == "acknowledge":
            services.acknowledge_service(service=service, user=request.user, ip=client_ip(request))
            messages.success(request, _("You acknowledged receipt of the documents."))
        elif action == "refuse":
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.refuse_service(service=service, user=request.user, reason=reason, ip=client_ip(request))
            messages.success(request, _("Your refusal is recorded; the mediator is told."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(m for messages_ in error.message_dict.values() for m in messages_))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("service_detail", service_id=service.pk)


@login_required
def service_proof(request, service_id):
    service = _service(request, service_id)
    pdf = services.proof_of_service(service, for_court=sees_service_addresses(request.user, service.case))
    return _file_response(pdf, "application/pdf", f"proof-of-service-{service.pk}.pdf")


# -- the settlement agreement -----------------------------------------------------------------


def _agreement(request, agreement_id) -> Agreement:
    agreement = Agreement.objects.select_related("case", "current_version").filter(pk=agreement_id).first()
    if (
        agreement is None
        or case_for(request.user, agreement.case_id) is None
        or side_of(request.user, agreement.case) is None
    ):
        raise Http404
    return agreement


@login_required
def agreement_for_case(request, case_id):
    case = _case(request, case_id)
    agreement = case.agreements.order_by("-created_at").first()
    if agreement is None:
        if request.method != "POST":
            raise Http404
        try:
            agreement = agreements.start_agreement(case=case, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("case_documents", case_id=case.pk)
        return redirect("agreement_edit", agreement_id=agreement.pk)
    return redirect("agreement_detail", agreement_id=agreement.pk)


def _signer_state(agreement: Agreement, user) -> dict:
    version = agreement.current_version
    signatures = list(
        Signature.objects.filter(version=version, voided_at__isnull=True).select_related("signer", "party")
    )
    signed = {signature.slot for signature in signatures}
    options = signing_options(agreement, user, signed)
    return {
        "signatures": signatures,
        "signed_slots": signed,
        "can_sign_for": options.can_sign_for,
        "may_sign": options.may_sign,
        "waiting_for_mediator": options.waiting_for_mediator,
    }


@login_required
def agreement_detail(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    state = _signer_state(agreement, request.user)
    is_mediator = agreement.case.mediator_id == request.user.pk
    return render(
        request,
        "documents/agreement_detail.html",
        {
            "agreement": agreement,
            "version": agreement.current_version,
            "case": agreement.case,
            "is_mediator": is_mediator,
            "is_participant": Participant.active.filter(case=agreement.case, user=request.user).exists(),
            "decline_form": ReasonForm(),
            "slots": agreement.current_version.signature_slots,
            **state,
        },
    )


@login_required
@csp_update({"style-src": ["'unsafe-inline'"]})
def agreement_preview(request, agreement_id):
    # The preview is the PDF's own HTML, whose print styles are inline.
    agreement = _agreement(request, agreement_id)
    return HttpResponse(agreements.preview_html(agreement))


@login_required
def agreement_edit(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    if agreement.case.mediator_id != request.user.pk:
        raise PermissionDenied
    if agreement.status == Agreement.Status.SEALED:
        return redirect("agreement_detail", agreement_id=agreement.pk)
    parties = list(agreement.case.parties.all())
    content = agreement.current_version.content
    if request.method == "POST":
        form = AgreementForm(request.POST)
        terms = TermFormSet(request.POST, prefix="terms", form_kwargs={"parties": parties})
        if form.is_valid() and terms.is_valid():
            rows = [
                {
                    **row,
                    "amount": str(row["amount"]) if row.get("amount") is not None else "",
                    "due_date": row["due_date"].isoformat() if row.get("due_date") else "",
                }
                for row in terms.cleaned_data
                if row and not row.get("DELETE")
            ]
            try:
                agreements.update_draft(
                    agreement=agreement,
                    actor=request.user,
                    terms=[{key: value for key, value in row.items() if key != "DELETE"} for row in rows],
                    **form.cleaned_data,
                )
            except ValidationError as error:
                for message in error.message_dict.get("terms", []):
                    form.add_error(None, message)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("agreement_detail", agreement_id=agreement.pk)
    else:
        form = AgreementForm(initial=content)
        terms = TermFormSet(prefix="terms", initial=content.get("terms", []), form_kwargs={"parties": parties})
    return render(
        request,
        "documents/agreement_edit.html",
        {"agreement": agreement, "form": form, "terms": terms, "locked": agreement.status != Agreement.Status.DRAFT},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def agreement_lock(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    try:
        agreements.lock_agreement(agreement=agreement, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(m for messages_ in error.message_dict.values() for m in messages_))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The agreement is locked; the parties are asked to sign."))
    return redirect("agreement_detail", agreement_id=agreement.pk)


@login_required
@require_POST
def agreement_decline(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    form = ReasonForm(request.POST)
    try:
        agreements.decline_agreement(
            agreement=agreement, actor=request.user, reason=form.cleaned_data["reason"] if form.is_valid() else ""
        )
    except ValidationError as error:
        messages.error(request, " ".join(m for messages_ in error.message_dict.values() for m in messages_))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You declined the agreement; the mediator will revise it."))
    return redirect("agreement_detail", agreement_id=agreement.pk)


def _decode_png(data_url: str) -> bytes | None:
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        return None
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None


@login_required
def agreement_sign(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    state = _signer_state(agreement, request.user)
    parties = [party for party in state["can_sign_for"] if party is not None]
    form = SignForm(
        request.POST or None,
        initial={"version_hash": agreement.current_version.content_hash, "party": parties[0] if parties else None},
    )
    form.fields["party"].queryset = agreement.case.parties.filter(pk__in=[p.pk for p in parties])
    uses_totp = agreements.uses_totp(request.user)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid() and not signing_attempt_allowed(request):
        form.add_error(None, _("Too many wrong passwords or codes. Nothing was signed. Try again in a few minutes."))
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreements.sign_agreement(
                agreement=agreement,
                actor=request.user,
                version_hash=data["version_hash"],
                party=data["party"] if agreement.case.mediator_id != request.user.pk else None,
                method=data["method"],
                image_png=_decode_png(data["signature"]) if data["method"] == "drawn" else None,
                reauthentication=agreements.Reauthentication(password=data["password"], totp_code=data["totp_code"]),
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except ValidationError as error:
            attach_errors(form, error)
        except agreements.ReauthenticationFailed as error:
            form.add_error("totp_code" if uses_totp else "password", str(error))
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            signing_succeeded(request)
            messages.success(request, _("You signed the agreement."))
            return redirect("agreement_detail", agreement_id=agreement.pk)
    return render(
        request,
        "documents/agreement_sign.html",
        {
            "agreement": agreement,
            "form": form,
            "uses_totp": uses_totp,
            "is_mediator": agreement.case.mediator_id == request.user.pk,
        },
        status=status,
    )


@login_required
def agreement_pdf(request, agreement_id, which):
    agreement = _agreement(request, agreement_id)
    version = agreement.current_version
    blobs = {
        "sealed": agreement.sealed_blob,
        "certificate": agreement.certificate_blob,
        "current": version.latest_blob,
    }
    blob = blobs.get(which)
    if blob is None:
        raise Http404
    return _file_response(read_blob(blob), "application/pdf", f"agreement-{agreement.verification_code}-{which}.pdf")


# -- public verification ------------------------------------------------------------------------


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
    agreement = (
        Agreement.objects.select_related("case", "current_version").filter(verification_code=code.upper()).first()
    )
    if agreement is None:
        return render(request, "documents/verify_record.html", {"code": code}, status=404)
    signatures = (
        Signature.objects.filter(version=agreement.current_version, voided_at__isnull=True).select_related(
            "signer", "party"
        )
        if agreement.status == Agreement.Status.SEALED
        else []
    )
    parties = [
        {"side": party.get_side_display(), "name": mask_name(party.name)} for party in agreement.case.parties.all()
    ]
    return render(
        request,
        "documents/verify_record.html",
        {
            "agreement": agreement,
            "code": code,
            "parties": parties,
            "signatures": [
                {
                    "name": mask_name(str(s.signer)),
                    "role": s.role,
                    "party": mask_name(s.party.name) if s.party else "",
                    "at": s.signed_at,
                }
                for s in signatures
            ],
        },
    )


def authority_certificate(request):
    pem = load_platform_pki().authority.certificate_pem
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = content_disposition_header(True, "mediation-platform-ca.pem")
    return response
