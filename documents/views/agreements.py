"""The settlement agreement's pages: starting, drafting, the preview, locking,
declining, signing and its PDFs."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import selectors
from documents.access import side_of
from documents.agreement_rendering import paper_signature_rows, preview_html, reader_text
from documents.agreement_rules import (
    MEDIATOR_SLOT,
    agents_without_authority,
    labelled_slots,
    party_designation,
    signing_options,
)
from documents.filenames import agreement_filename
from documents.forms import AgreementForm, InstalmentScheduleForm, ReasonForm, SignForm, TermForm, TermFormSet
from documents.models import Agreement
from documents.reauthentication import (
    Reauthentication,
    send_signing_code,
    signing_attempt_allowed,
    signing_succeeded,
    signs_by_sms,
    uses_totp,
)
from documents.services import agreements
from documents.services.storage import read_blob
from documents.todo import names_listed
from documents.views.common import case_or_404, decode_png, error_text, file_response, redrawable, show_signing_refusal
from mediation import phones
from mediation.client_address import client_ip
from mediation.errors import DomainError
from mediation.models import Participant
from mediation.models.cases import SIGNS_NOTHING
from mediation.selectors.cases import case_for
from mediation.verification_codes import CodeRefused


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
    # Signed digitally, or on paper in person (a confirmed act done in person).
    paper = paper_signature_rows(selectors.paper_signatures(version))
    signed = {signature.slot for signature in signatures} | {row["slot"] for row in paper}
    options = signing_options(agreement, user, signed)
    return {
        "signatures": signatures,
        "paper_signatures": paper,
        "signed_slots": signed,
        "can_sign_for": options.can_sign_for,
        "may_sign": options.may_sign,
        "waiting_for_mediator": options.waiting_for_mediator,
        # Why an agent may not sign (yet): no checked power of attorney with special
        # authority to settle.
        "authority_refusals": options.refusals,
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
            # Who may decline: a party's people who act for it (not an interpreter or a helper).
            "is_participant": Participant.active.filter(case=agreement.case, user=request.user)
            .exclude(role__in=SIGNS_NOTHING)
            .exists(),
            "decline_form": ReasonForm(),
            "slots": labelled_slots(agreement.current_version.signature_slots, agreement.current_version.content),
            "text": reader_text(agreement),
            # For the mediator: agents who cannot sign until their power of attorney
            # with special authority to settle is checked.
            "agents_without_authority": agents_without_authority(agreement, state["signed_slots"])
            if is_mediator
            else [],
            **state,
        },
    )


@login_required
@csp_update({"style-src": ["'unsafe-inline'"]})
def agreement_preview(request, agreement_id):
    # The preview is the PDF's own HTML, whose print styles are inline.
    agreement = _agreement(request, agreement_id)
    return HttpResponse(preview_html(agreement))


def _term_rows(terms) -> tuple[list[dict], list]:
    """The formset's terms as the service takes them, and the form of each, in order:
    rows left empty or marked for removal are no terms."""
    rows, forms = [], []
    for form in terms.forms:
        row = form.cleaned_data
        if not row or row.get("DELETE"):
            continue
        rows.append(TermForm.term_from(row))
        forms.append(form)
    return rows, forms


def _attach_draft_errors(
    error: ValidationError, form: AgreementForm, term_forms: list, schedule: InstalmentScheduleForm
) -> None:
    """Each term's problems on its row (the service numbers them from 1), those of the
    terms the instalment schedule made (after the rows) beside the schedule, the
    clause's beside the clause, anything else at the top."""
    for field, problems in error.error_dict.items():
        for problem in problems:
            n = (problem.params or {}).get("n") if field == "terms" else None
            if n is not None and 0 < n <= len(term_forms):
                term_forms[n - 1].add_error(None, problem)
            elif n is not None and schedule.instalment_rows():
                schedule.add_error(None, problem)
            elif field == "default_clause":
                form.add_error("default_clause", problem)
            else:
                form.add_error(None, problem)


@login_required
def agreement_edit(request, agreement_id):
    """Every term, the instalment schedule, the default clause and the rest of the
    draft on one page, saved in one submission: all of it, or nothing when any row is
    wrong. A filled-in schedule adds one payment term per instalment."""
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
        schedule = InstalmentScheduleForm(request.POST, parties=parties)
        # Every form checked, so that each shows its errors at once.
        valid = [form.is_valid(), terms.is_valid(), schedule.is_valid()]
        if all(valid):
            rows, term_forms = _term_rows(terms)
            try:
                agreements.update_draft(
                    agreement=agreement,
                    actor=request.user,
                    terms=rows + schedule.instalment_rows(),
                    **form.draft_fields(),
                )
            except ValidationError as error:
                _attach_draft_errors(error, form, term_forms, schedule)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The draft is saved."))
                if schedule.instalment_rows():
                    # Back to the page: the new rows are there to check and edit.
                    messages.info(
                        request,
                        _("The schedule made %(count)s payment terms, one per instalment.")
                        % {"count": len(schedule.instalment_rows())},
                    )
                    return redirect("agreement_edit", agreement_id=agreement.pk)
                return redirect("agreement_detail", agreement_id=agreement.pk)
    else:
        form = AgreementForm(initial=AgreementForm.initial_from(content))
        terms = TermFormSet(
            prefix="terms",
            initial=[TermForm.initial_from(term) for term in content.get("terms", [])],
            form_kwargs={"parties": parties},
        )
        schedule = InstalmentScheduleForm(parties=parties)
    return render(
        request,
        "documents/agreement_edit.html",
        {
            "agreement": agreement,
            "form": form,
            "terms": terms,
            "schedule": schedule,
            "locked": agreement.status != Agreement.Status.DRAFT,
        },
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
        messages.success(
            request,
            _("The agreement is locked. Sign it first: the parties are then told that it is their turn to sign."),
        )
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
    form.fields["party"].label_from_instance = party_designation
    signer_uses_totp = uses_totp(request.user)
    by_sms = signs_by_sms(request.user)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and request.POST.get("send_code"):
        # "Text me a code": the form comes back as it was filled (the drawing too),
        # with the code to type; nothing is signed.
        status = _send_signing_code(request, agreement, state)
        form = SignForm(initial={**form.initial, **{k: request.POST.get(k) for k in ("party", "method")}})
        form.fields["party"].queryset = agreement.case.parties.filter(pk__in=[p.pk for p in parties])
        form.fields["party"].label_from_instance = party_designation
    elif request.method == "POST" and form.is_valid() and not signing_attempt_allowed(request):
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
            messages.success(request, after_signing(selectors.agreement_with_case(agreement.pk)))
            return redirect("agreement_detail", agreement_id=agreement.pk)
    return render(
        request,
        "documents/agreement_sign.html",
        {
            "agreement": agreement,
            "form": form,
            "uses_totp": signer_uses_totp,
            "signs_by_sms": by_sms,
            "masked_phone": phones.mask(request.user.phone) if by_sms else "",
            "is_mediator": agreement.case.mediator_id == request.user.pk,
            "reading": selectors.agreement_reading(agreement),
            "authority_refusals": state["authority_refusals"],
            # A refused attempt (a wrong password) gives the drawing back, for the
            # canvas to draw it again, if it is one the service would take.
            "signature_to_redraw": redrawable(request.POST.get("signature", "")) if request.method == "POST" else "",
        },
        status=status,
    )


def _send_signing_code(request, agreement, state: dict) -> int:
    """Text the signer a code to sign with, if they may sign now; the page's status."""
    if not state["may_sign"]:
        messages.error(request, _("There is nothing for you to sign now."))
        return 403
    try:
        masked = send_signing_code(
            request.user, agreement, client_address=client_ip(request), language=translation.get_language()
        )
    except DomainError as error:
        messages.error(request, error.message)
        return 429 if isinstance(error, CodeRefused) else 403
    messages.success(
        request,
        _("A 6-digit code was texted to %(phone)s. Type it below within 5 minutes, then sign.") % {"phone": masked},
    )
    return 200


def after_signing(agreement: Agreement) -> str:
    """What happens next, for whoever has just signed: who signs after them, or the
    seal; each of these is notified (`agreements._notify_next_signers`, the seal's
    `agreement.sealed` notice)."""
    version = agreement.current_version
    signed = selectors.signed_slots(version)
    missing = [entry for entry in version.signature_slots if entry["slot"] not in signed]
    if not missing:
        return _(
            "You signed the agreement. Everyone has signed: the platform now seals it and tells every party when it "
            "is sealed; the sealed agreement can then be downloaded on this page."
        )
    names = names_listed(
        agreement.case.parties.filter(pk__in=[entry["party"] for entry in missing if entry["party"]]).values_list(
            "name", flat=True
        )
    )
    if signed == {MEDIATOR_SLOT}:
        return _("You signed the agreement. %(names)s are now told that it is their turn to sign.") % {"names": names}
    return _(
        "You signed the agreement. Waiting for %(names)s to sign; once everyone has signed, the platform seals it "
        "and you are told."
    ) % {"names": names}


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
    return file_response(read_blob(blob), "application/pdf", agreement_filename(agreement, which))
