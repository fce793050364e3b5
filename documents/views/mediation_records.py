"""The mediation record (调解笔录) of a session: the mediator writes it from a
template and sends it for signature; a party's paper signature on it is recorded by
the mediator. Reading and signing a sent record is the court document's page
(documents.views.court_documents). Each view parses, authorises, calls one service,
responds."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.forms_in_person import RecordPaperSignatureForm
from documents.forms_mediation_record import MediationRecordForm
from documents.models import MediationRecord
from documents.models.in_person import InPersonAct
from documents.services import in_person, mediation_records
from documents.services.uploads import too_large
from documents.views.common import case_or_404
from mediation.errors import DomainError
from mediation.models import MediationSession
from mediation.views.forms import attach_errors


def _panel_url(case_id: int) -> str:
    return reverse("case_detail", args=[case_id]) + "#records-heading"


def _session_for_writer(request, session_id) -> MediationSession:
    """The session, for the case's mediator while they may write records (404 to anyone else)."""
    session = get_object_or_404(MediationSession.objects.select_related("case"), pk=session_id)
    case = case_or_404(request, session.case_id)
    if not mediation_records.may_write(request.user, case):
        raise Http404
    session.case = case
    return session


def _record_for_writer(request, record_id) -> MediationRecord:
    record = get_object_or_404(MediationRecord.objects.select_related("session", "case", "document"), pk=record_id)
    case = case_or_404(request, record.case_id)
    if not mediation_records.may_write(request.user, case):
        raise Http404
    return record


@login_required
def record_edit(request, session_id):
    """Write or edit the draft record of a session (the mediator's)."""
    session = _session_for_writer(request, session_id)
    record = MediationRecord.objects.filter(session=session).first()
    if record is not None and not record.is_draft:
        return redirect("court_document_sign", document_id=record.document_id)
    form = MediationRecordForm(request.POST or None, session=session, record=record)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                record = mediation_records.write_record(session=session, actor=request.user, data=form.cleaned_data)
            except ValidationError as error:
                attach_errors(form, error)
            except DomainError as error:
                form.add_error(None, error.message)
                status = 409
            else:
                messages.success(
                    request, _("The record is saved as a draft. Send it for signature when it is complete.")
                )
                return redirect("mediation_record_edit", session_id=session.pk)
    return render(
        request,
        "documents/mediation_record_edit.html",
        {"case": session.case, "session": session, "record": record, "form": form},
        status=status,
    )


@login_required
@require_POST
def record_send(request, record_id):
    record = _record_for_writer(request, record_id)
    try:
        record = mediation_records.send_record_for_signature(record=record, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_panel_url(record.case_id))
    messages.success(request, _("The record was sent: those who attended are asked to read and sign it."))
    return redirect("court_document_sign", document_id=record.document_id)


@login_required
@require_POST
def record_paper_signature(request, record_id):
    """The mediator records a party's signature on a paper copy of a sent record, with
    the scan; it counts once a second member of staff confirms it."""
    record = _record_for_writer(request, record_id)
    if record.document is None:
        raise Http404
    parties = record.case.parties.filter(pk__in=[e["party"] for e in record.document.signature_slots if e.get("party")])
    form = RecordPaperSignatureForm(request.POST, request.FILES, parties=parties)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["scan"].size > settings.DOCUMENT_MAX_BYTES:
                raise ValidationError({"scan": too_large().messages})
            in_person.record_in_person_act(
                case=record.case,
                actor=request.user,
                party=data["party"],
                kind=InPersonAct.Kind.RECORD_PAPER_SIGNATURE,
                person_name=data["person_name"],
                capacity=data["capacity"],
                place=data["place"],
                place_detail=data["place_detail"],
                occurred_at=data["occurred_at"],
                scan_file=data["scan"],
                court_document=record.document,
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The act was recorded. It counts once another member of staff confirms it."))
            return redirect("court_document_sign", document_id=record.document_id)
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(request, error if field == "__all__" else f"{form.fields[field].label}: {error}")
    return redirect("court_document_sign", document_id=record.document_id)
