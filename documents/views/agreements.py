"""The settlement agreement's pages: starting, drafting, the preview, locking,
declining, signing and its PDFs."""

from __future__ import annotations

import base64
import binascii

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import selectors
from documents.access import side_of
from documents.agreement_rendering import preview_html
from documents.agreement_rules import labelled_slots, signing_options
from documents.forms import AgreementForm, ReasonForm, SignForm, TermFormSet
from documents.models import Agreement
from documents.reauthentication import (
    Reauthentication,
    ReauthenticationFailed,
    signing_attempt_allowed,
    signing_succeeded,
    uses_totp,
)
from documents.services import agreements
from documents.services.storage import read_blob
from documents.views.common import case_or_404, client_ip, error_text, file_response
from mediation.errors import DomainError
from mediation.models import Participant
from mediation.selectors.cases import case_for
from mediation.views.forms import attach_errors


def _agreement(request, agreement_id) -> Agreement:
    agreement = selectors.agreement_with_case(agreement_id)
    if (
        agreement is None
        or case_for(request.user, agreement.case_id) is None
        or side_of(request.user, agreement.case) is None
    ):
        raise Http404
    return agreement


@login_required
def agreement_for_case(request, case_id):
    case = case_or_404(request, case_id)
    agreement = selectors.latest_agreement(case)
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
    signatures = selectors.live_signatures(version)
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
            "slots": labelled_slots(agreement.current_version.signature_slots, agreement.current_version.content),
            **state,
        },
    )


@login_required
@csp_update({"style-src": ["'unsafe-inline'"]})
def agreement_preview(request, agreement_id):
    # The preview is the PDF's own HTML, whose print styles are inline.
    agreement = _agreement(request, agreement_id)
    return HttpResponse(preview_html(agreement))


@login_required
def agreement_edit(request, agreement_id):
    agreement = _agreement(request, agreement_id)
    if agreement.case.mediator_id != request.user.pk:
        raise PermissionDenied
    if agreement.is_sealed:
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
        messages.error(request, error_text(error))
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
        messages.error(request, error_text(error))
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
    signer_uses_totp = uses_totp(request.user)
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
                reauthentication=Reauthentication(password=data["password"], totp_code=data["totp_code"]),
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except ValidationError as error:
            attach_errors(form, error)
        except ReauthenticationFailed as error:
            form.add_error("totp_code" if signer_uses_totp else "password", str(error))
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
            "uses_totp": signer_uses_totp,
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
    return file_response(read_blob(blob), "application/pdf", f"agreement-{agreement.verification_code}-{which}.pdf")
