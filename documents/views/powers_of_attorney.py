"""The agents' powers of attorney: the case's list (with the upload), one power of
attorney with the mediator's check, and its file."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.access import side_of, visible_powers_of_attorney
from documents.agreement_rules import signing_authority_refusal
from documents.forms import PowerOfAttorneyAcceptForm, PowerOfAttorneyUploadForm, ReasonForm
from documents.models import PowerOfAttorney
from documents.services import powers_of_attorney as services
from documents.services.storage import read_blob
from documents.services.uploads import too_large
from documents.views.common import case_or_404, file_response
from mediation.errors import DomainError
from mediation.models import MediationCase, Participant, ParticipantRole
from mediation.views.forms import attach_errors


def _agents(case: MediationCase):
    return Participant.active.filter(case=case, role=ParticipantRole.AGENT).select_related("party", "user")


def _upload_form(request, case: MediationCase, data=None, files=None) -> PowerOfAttorneyUploadForm | None:
    """The upload for whoever may upload here: the case's mediator (for any of its
    agents), or an agent (their own). None for anyone else."""
    if not case.is_open:
        return None
    if case.mediator_id == request.user.pk:
        return PowerOfAttorneyUploadForm(data, files, agents=_agents(case))
    if _agents(case).filter(user=request.user).exists():
        return PowerOfAttorneyUploadForm(data, files)
    return None


def _page(request, case: MediationCase, form=None, status=200):
    own = _agents(case).filter(user=request.user).first()
    return render(
        request,
        "documents/powers_of_attorney.html",
        {
            "case": case,
            "powers": visible_powers_of_attorney(request.user, case),
            "upload_form": form if form is not None else _upload_form(request, case),
            "own_refusal": signing_authority_refusal(own) if own is not None else None,
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
        },
        status=status,
    )


@login_required
def powers_of_attorney(request, case_id):
    return _page(request, case_or_404(request, case_id))


@login_required
@require_POST
def power_of_attorney_upload(request, case_id):
    case = case_or_404(request, case_id)
    form = _upload_form(request, case, request.POST, request.FILES)
    if form is None:
        raise PermissionDenied
    if form.is_valid():
        participant = form.cleaned_data.get("participant") or _agents(case).get(user=request.user)
        uploaded = form.cleaned_data["file"]
        try:
            if uploaded.size > settings.DOCUMENT_MAX_BYTES:
                raise too_large()
            services.submit_power_of_attorney(
                participant=participant, actor=request.user, data=uploaded.read(), filename=uploaded.name
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The power of attorney was uploaded; the mediator checks it."))
            return redirect("powers_of_attorney", case_id=case.pk)
    return _page(request, case, form=form, status=400)


def _power(request, power_id) -> PowerOfAttorney:
    power = PowerOfAttorney.objects.select_related("participant__case").filter(pk=power_id).first()
    if power is None:
        raise Http404
    case = power.participant.case
    if (
        side_of(request.user, case) is None
        or not visible_powers_of_attorney(request.user, case).filter(pk=power.pk).exists()
    ):
        raise Http404
    return power


def _detail(request, power: PowerOfAttorney, *, accept_form=None, reject_form=None, status=200):
    power = visible_powers_of_attorney(request.user, power.participant.case).get(pk=power.pk)
    case = power.participant.case
    checks = case.mediator_id == request.user.pk and power.allows("accept") and case.is_open
    return render(
        request,
        "documents/power_of_attorney_detail.html",
        {
            "case": case,
            "power": power,
            "accept_form": (accept_form or PowerOfAttorneyAcceptForm()) if checks else None,
            "reject_form": (reject_form or ReasonForm()) if checks else None,
        },
        status=status,
    )


@login_required
def power_of_attorney_detail(request, power_id):
    return _detail(request, _power(request, power_id))


@login_required
def power_of_attorney_file(request, power_id):
    power = _power(request, power_id)
    # A download, never shown inline in the platform's origin (as every upload).
    return file_response(read_blob(power.blob), power.blob.content_type, power.original_name)


@login_required
@require_POST
def power_of_attorney_check(request, power_id, action):
    power = _power(request, power_id)
    if action not in ("accept", "reject"):
        raise Http404
    if power.participant.case.mediator_id != request.user.pk:
        raise PermissionDenied
    accept_form = reject_form = None
    try:
        if action == "accept":
            accept_form = PowerOfAttorneyAcceptForm(request.POST)
            if not accept_form.is_valid():
                return _detail(request, power, accept_form=accept_form, status=400)
            services.accept_power_of_attorney(power=power, actor=request.user, **accept_form.cleaned_data)
            messages.success(request, _("The power of attorney is checked and its scope recorded."))
        else:
            reject_form = ReasonForm(request.POST)
            # The service says what a missing reason is, once.
            reject_form.fields["reason"].required = False
            services.reject_power_of_attorney(
                power=power,
                actor=request.user,
                reason=reject_form.cleaned_data["reason"] if reject_form.is_valid() else "",
            )
            messages.success(request, _("The power of attorney is rejected; the agent is told why."))
    except ValidationError as error:
        attach_errors(accept_form or reject_form, error)
        return _detail(request, power, accept_form=accept_form, reject_form=reject_form, status=400)
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, power, status=409)
    return redirect("power_of_attorney_detail", power_id=power.pk)
