"""Acts done in person (线下参与): the case's list with their state, the mediator's form
to record one with its scan, the confirmation by a second member of staff, the
withdrawal, and the scan's download."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents import selectors_in_person as acts
from documents.forms_in_person import InPersonActForm
from documents.models.in_person import InPersonAct
from documents.services import in_person as services
from documents.services.storage import read_blob
from documents.services.uploads import too_large
from documents.views.common import file_response
from mediation import policy
from mediation.errors import DomainError
from mediation.models import MediationCase
from mediation.selectors.cases import case_for
from mediation.views.forms import attach_errors


def _case(request, case_id) -> MediationCase:
    case = case_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


def _act(request, act_id) -> InPersonAct:
    act = get_object_or_404(InPersonAct.objects.select_related("case", "scan", "party"), pk=act_id)
    if case_for(request.user, act.case_id) is None or act not in acts.visible_acts(request.user, act.case):
        raise Http404
    return act


def _may_record(user, case: MediationCase) -> bool:
    return case.allows("record_in_person") and policy.can_on_case(user, "record_in_person", case)


def _form(case: MediationCase, data=None, files=None) -> InPersonActForm:
    return InPersonActForm(data, files, case=case, services=acts.services_to_acknowledge(case))


def _page(request, case: MediationCase, form=None, status=200):
    may_record = _may_record(request.user, case)
    visible = acts.visible_acts(request.user, case)
    return render(
        request,
        "documents/in_person_acts.html",
        {
            "case": case,
            "entries": [
                {
                    "act": act,
                    "may_confirm": acts.may_confirm(request.user, act),
                    "may_withdraw": request.user.pk in (act.witness_id, case.mediator_id)
                    and act.confirmed_at is None
                    and act.withdrawn_at is None,
                }
                for act in visible
            ],
            "form": (form or _form(case)) if may_record else None,
            "version": acts.version_to_sign_on_paper(case) if may_record else None,
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
        },
        status=status,
    )


@login_required
def in_person_acts(request, case_id):
    case = _case(request, case_id)
    if not acts.visible_acts(request.user, case) and not acts.follows_whole_case(request.user, case):
        # A party's people with nothing to see here: the page does not exist for them.
        raise Http404
    return _page(request, case)


@login_required
@require_POST
def in_person_record(request, case_id):
    case = _case(request, case_id)
    if not _may_record(request.user, case):
        raise Http404
    form = _form(case, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["scan"].size > settings.DOCUMENT_MAX_BYTES:
                raise ValidationError({"scan": too_large().messages})
            services.record_in_person_act(
                case=case,
                actor=request.user,
                party=data["party"],
                kind=data["kind"],
                person_name=data["person_name"],
                capacity=data["capacity"],
                place=data["place"],
                place_detail=data["place_detail"],
                occurred_at=data["occurred_at"],
                scan_file=data["scan"],
                agreement_version=acts.version_to_sign_on_paper(case)
                if data["kind"] == InPersonAct.Kind.PAPER_SIGNATURE
                else None,
                service=data["service"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The act was recorded. It counts once another member of staff confirms it."))
            return redirect("in_person_acts", case_id=case.pk)
    return _page(request, case, form=form, status=400)


@login_required
@require_POST
def in_person_confirm(request, act_id):
    act = _act(request, act_id)
    try:
        services.confirm_in_person_act(act=act, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("in_person_acts", case_id=act.case_id)
    messages.success(request, _("Confirmed: the act done in person now counts."))
    return redirect("in_person_acts", case_id=act.case_id)


@login_required
@require_POST
def in_person_withdraw(request, act_id):
    act = _act(request, act_id)
    try:
        services.withdraw_in_person_act(act=act, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("in_person_acts", case_id=act.case_id)
    messages.success(request, _("The act was withdrawn; it will never count."))
    return redirect("in_person_acts", case_id=act.case_id)


@login_required
def in_person_scan(request, act_id):
    act = _act(request, act_id)
    if not acts.may_view_scan(request.user, act):
        raise Http404
    scan = act.scan
    return file_response(read_blob(scan.blob), scan.blob.content_type, scan.original_name)
