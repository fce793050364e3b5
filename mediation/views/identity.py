"""Identity levels (实名) on pages: court staff record an in-person ID check of a case's
participant from the case page, open the scan they kept, and everyone sees their own
level on their account's identity page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mediation import file_types
from mediation.errors import DomainError
from mediation.identity import get_verifier, may_record_identity_check, read_evidence
from mediation.models import IdentityCheck, IdentityLevel, Participant
from mediation.selectors import cases as selectors
from mediation.services.identity import FULL_NAME_MAX_LENGTH, verify_real_name
from mediation.views.forms import attach_errors


class IdentityCheckForm(forms.Form):
    full_name = forms.CharField(
        label=gettext_lazy("Name on the ID document"), max_length=FULL_NAME_MAX_LENGTH, strip=True
    )
    id_number = forms.CharField(
        label=gettext_lazy("Resident ID number"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    file = forms.FileField(
        label=gettext_lazy("Scan or photo of the ID document"),
        help_text=gettext_lazy("PDF, PNG or JPEG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )

    def __init__(self, *args, participant: Participant | None = None, **kwargs):
        prefix = f"identity-{participant.pk}" if participant is not None else None
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["file"].required = get_verifier().requires_evidence
        if participant is not None and not self.is_bound:
            self.initial["full_name"] = participant.user.full_name


def identity_check_entries(case, viewer, participants, bound: tuple[int, IdentityCheckForm] | None = None) -> dict:
    """For each of the case's active participants the viewer may record an ID check
    of (`may_record_identity_check`): the form while their real name is not verified
    (the bound one after a failed post), and their latest check, whose scan the viewer
    may open. Keyed by participant id."""
    entries = {}
    for participant in participants:
        if not may_record_identity_check(viewer, participant.user, case):
            continue
        level = participant.user.identity_level
        form = None
        if level == IdentityLevel.MOBILE:
            form = bound[1] if bound and bound[0] == participant.pk else IdentityCheckForm(participant=participant)
        entries[participant.pk] = {
            "form": form,
            "needs_mobile": level == IdentityLevel.ACCOUNT,
            "check": participant.user.identity_checks.first() if level == IdentityLevel.REAL_NAME else None,
        }
    return entries


def _uploaded_evidence(form: IdentityCheckForm) -> tuple[bytes, str] | None:
    uploaded = form.cleaned_data.get("file")
    if not uploaded:
        return None
    # Refused before it is read into memory.
    if uploaded.size > settings.IDENTITY_EVIDENCE_MAX_BYTES:
        raise file_types.too_large(settings.IDENTITY_EVIDENCE_MAX_BYTES)
    return uploaded.read(), uploaded.name


@login_required
@require_POST
def record_identity_check(request, case_id, participant_id):
    from mediation.views.cases import case_detail

    case = selectors.case_for(request.user, case_id)
    if case is None:
        raise Http404
    participant = get_object_or_404(Participant.active.select_related("user", "party"), case=case, pk=participant_id)
    if not may_record_identity_check(request.user, participant.user, case):
        raise PermissionDenied
    form = IdentityCheckForm(request.POST, request.FILES, participant=participant)
    if form.is_valid():
        try:
            verify_real_name(
                person=participant.user,
                actor=request.user,
                full_name=form.cleaned_data["full_name"],
                id_number=form.cleaned_data["id_number"],
                evidence=_uploaded_evidence(form),
                case=case,
            )
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return case_detail(request, case_id, status=409)
        else:
            messages.success(request, _("%(name)s's real name is verified.") % {"name": form.cleaned_data["full_name"]})
            return redirect("case_detail", case_id=case_id)
    return case_detail(request, case_id, identity_form=(participant.pk, form), status=400)


@login_required
def identity_check_evidence(request, check_id):
    """The scan kept with an in-person check, for those who may record one for that
    person; 404 for everyone else (whether the check exists is not told)."""
    check = IdentityCheck.objects.select_related("user", "case").filter(pk=check_id).first()
    if check is None or not check.evidence_storage_name or not may_record_identity_check(request.user, check.user):
        raise Http404
    extension = file_types.CANONICAL_EXTENSION.get(check.evidence_content_type, "")
    response = HttpResponse(read_evidence(check), content_type=check.evidence_content_type)
    response["Content-Disposition"] = f'attachment; filename="identity-check-{check.pk}{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def my_identity(request):
    """The signed-in person's own identity level, and what raises it."""
    return render(request, "mediation/my_identity.html", {"person": request.user})
