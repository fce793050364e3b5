"""Judicial confirmation's pages. The parties' side: starting the application and
withdrawing it (signing it is the court document's page). The court's side: the
judge's and the department head's queue, an application's page with the judge's
actions, and the mediator's way back to mediation after a rejection. Each parses,
authorises, calls one service, responds: a refusal on the court's page re-renders it
with the reason (400 bad input, 409 not possible now)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from documents.forms import ReasonForm
from documents.models import Agreement, JudicialConfirmation
from documents.models.confirmation import MAX_EXTENSION_DAYS, ConfirmationReview
from documents.services import confirmation as confirmations
from documents.services import confirmation_court as court
from documents.services import mediation_records
from documents.views.common import case_or_404, error_text
from mediation import policy
from mediation.errors import DomainError
from mediation.models import MediationCase, MediationSession, User
from mediation.selectors.cases import case_for


def _panel_url(case_id: int) -> str:
    return reverse("case_detail", args=[case_id]) + "#confirmation-heading"


@login_required
@require_POST
def confirmation_apply(request, agreement_id):
    agreement = Agreement.objects.select_related("case", "current_version").filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404
    case_or_404(request, agreement.case_id)
    try:
        confirmation = confirmations.apply_for_confirmation(agreement=agreement, actor=request.user)
    except DomainError as error:
        # Not possible now (not sealed, too late, applied already); who may not is refused (403).
        messages.error(request, error.message)
        return redirect(_panel_url(agreement.case_id))
    messages.success(
        request,
        _("The application for judicial confirmation is ready: every party signs it by %(date)s.")
        % {"date": confirmation.apply_by.isoformat()},
    )
    return redirect(_panel_url(agreement.case_id))


@login_required
@require_POST
def confirmation_withdraw(request, confirmation_id):
    confirmation = JudicialConfirmation.objects.select_related("case").filter(pk=confirmation_id).first()
    if confirmation is None:
        raise Http404
    case_or_404(request, confirmation.case_id)
    form = ReasonForm(request.POST)
    try:
        confirmations.withdraw_confirmation(
            confirmation=confirmation,
            actor=request.user,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You withdrew the application for judicial confirmation."))
    return redirect(_panel_url(confirmation.case_id))


class AssignForm(forms.Form):
    judge = forms.ModelChoiceField(label=gettext_lazy("Judge"), queryset=User.objects.none())

    def __init__(self, *args, head: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["judge"].queryset = court.judges_to_assign(head)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for not accepting"), widget=forms.Textarea, required=False)


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("How"), choices=ConfirmationReview.Kind.choices)
    held_at = forms.DateTimeField(
        label=gettext_lazy("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    session = forms.ModelChoiceField(
        label=gettext_lazy("Session"), queryset=MediationSession.objects.none(), required=False
    )
    note = forms.CharField(label=gettext_lazy("Record of the review"), widget=forms.Textarea, required=False)

    def __init__(self, *args, case: MediationCase, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = MediationSession.objects.filter(case=case, cancelled_at__isnull=True)


class ReviewSessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    duration_minutes = forms.IntegerField(label=gettext_lazy("Minutes"), initial=60, min_value=10, max_value=480)
    note = forms.CharField(label=gettext_lazy("Note"), required=False)


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Days"), min_value=1, max_value=MAX_EXTENSION_DAYS)
    reason = forms.CharField(label=gettext_lazy("Reason for the extension"), widget=forms.Textarea, required=False)


class RulingForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=JudicialConfirmation.Decision.choices)
    ground = forms.ChoiceField(
        label=gettext_lazy("Ground for rejecting"),
        choices=[("", "—"), *JudicialConfirmation.Ground.choices],
        required=False,
    )
    note = forms.CharField(label=gettext_lazy("Reasons"), widget=forms.Textarea, required=False)


def _confirmation(request, confirmation_id) -> JudicialConfirmation:
    """The application, for its judge or its department's head; 404 for anyone else."""
    confirmation = (
        JudicialConfirmation.objects.select_related("case", "case__mediator", "case__judge", "judge", "ruling")
        .filter(pk=confirmation_id)
        .first()
    )
    if confirmation is None or not court.may_see_confirmation(request.user, confirmation):
        raise Http404
    return confirmation


def _row(confirmation: JudicialConfirmation, user: User, now: dt.datetime) -> dict:
    return {
        "confirmation": confirmation,
        "accept_overdue": court.is_accept_overdue(confirmation, now),
        "decide_overdue": court.is_decide_overdue(confirmation, timezone.localdate(now)),
        "assign_form": AssignForm(head=user)
        if court.heads_department_of(user, confirmation) and confirmation.allows("assign")
        else None,
    }


@login_required
def confirmation_queue(request):
    if not court.may_see_queue(request.user):
        raise PermissionDenied
    now = timezone.now()
    rows = [_row(confirmation, request.user, now) for confirmation in court.queue_for(request.user)]
    return render(request, "documents/confirmation_queue.html", {"rows": rows})


def _detail(request, confirmation: JudicialConfirmation, *, bound: dict | None = None, status: int = 200):
    is_judge = court.is_judge_of(request.user, confirmation)
    case = confirmation.case
    bound = bound or {}
    forms_ = {}
    if is_judge:
        if confirmation.allows("accept"):
            forms_["decline"] = bound.get("decline") or DeclineForm()
        if confirmation.allows("review"):
            forms_["review"] = bound.get("review") or ReviewForm(case=case)
            forms_["review_session"] = bound.get("review_session") or ReviewSessionForm()
        if confirmation.allows("extend") and not confirmation.extension_days:
            forms_["extend"] = bound.get("extend") or ExtensionForm()
        if confirmation.allows("draft_ruling"):
            forms_["ruling"] = bound.get("ruling") or RulingForm()
    ruling = confirmation.ruling
    return render(
        request,
        "documents/confirmation_detail.html",
        {
            "confirmation": confirmation,
            "case": case,
            "is_judge": is_judge,
            "forms": forms_,
            "reviews": confirmation.reviews.select_related("session", "recorded_by"),
            # The confirmation file: the sealed records of the mediation's sessions.
            "mediation_records": [
                record
                for record in mediation_records.visible_records(request.user, case)
                if record.document is not None and record.document.is_sealed
            ],
            "ruling": ruling,
            "ruling_to_sign": bool(
                is_judge and ruling is not None and ruling.status == ruling.Status.AWAITING_SIGNATURES
            ),
            "accept_overdue": court.is_accept_overdue(confirmation),
            "decide_overdue": court.is_decide_overdue(confirmation),
            "assign_form": AssignForm(head=request.user)
            if court.heads_department_of(request.user, confirmation) and confirmation.allows("assign")
            else None,
        },
        status=status,
    )


@login_required
def confirmation_detail(request, confirmation_id):
    return _detail(request, _confirmation(request, confirmation_id))


def _perform(request, confirmation, action: str):
    """Parse the action's form and call its service: (form, done) — form None when the
    action takes no input."""
    actor = request.user
    data = request.POST
    if action == "assign":
        form = AssignForm(data, head=actor)
        if not form.is_valid():
            raise ValidationError({"judge": _("Choose a judge of your department.")})
        court.assign_judge(confirmation=confirmation, actor=actor, judge=form.cleaned_data["judge"])
        return None, _("The application is assigned to %(judge)s.") % {"judge": form.cleaned_data["judge"]}
    if action == "accept":
        confirmation = court.accept_confirmation(confirmation=confirmation, actor=actor)
        return None, _("Accepted as %(number)s.") % {"number": confirmation.case_number}
    if action == "decline":
        form = DeclineForm(data)
        form.is_valid()
        court.decline_confirmation(confirmation=confirmation, actor=actor, reason=form.cleaned_data.get("reason", ""))
        return form, _("The application is not accepted; the parties are told why.")
    if action == "review":
        form = ReviewForm(data, case=confirmation.case)
        if not form.is_valid():
            raise _FormInvalid("review", form)
        court.record_review(
            confirmation=confirmation,
            actor=actor,
            kind=form.cleaned_data["kind"],
            held_at=form.cleaned_data["held_at"],
            note=form.cleaned_data["note"],
            session=form.cleaned_data["session"],
        )
        return form, _("The review is recorded.")
    if action == "review_in_room":
        court.start_review_in_room(confirmation=confirmation, actor=actor)
        return None, _("The joint room is open again for your questions.")
    if action == "review_session":
        form = ReviewSessionForm(data)
        if not form.is_valid():
            raise _FormInvalid("review_session", form)
        court.schedule_review_session(confirmation=confirmation, actor=actor, **form.cleaned_data)
        return form, _("The session is scheduled; the parties are told.")
    if action == "extend":
        form = ExtensionForm(data)
        if not form.is_valid():
            raise _FormInvalid("extend", form)
        court.extend_decision(
            confirmation=confirmation, actor=actor, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"]
        )
        return form, _("The time to decide is extended.")
    if action == "ruling":
        form = RulingForm(data)
        if not form.is_valid():
            raise _FormInvalid("ruling", form)
        court.draft_ruling(confirmation=confirmation, actor=actor, **form.cleaned_data)
        return form, _("The ruling is laid out: read it and sign it.")
    raise Http404


class _FormInvalid(Exception):
    def __init__(self, name, form):
        self.name, self.form = name, form


@login_required
@require_POST
def confirmation_action(request, confirmation_id, action):
    confirmation = _confirmation(request, confirmation_id)
    try:
        _form, done = _perform(request, confirmation, action)
    except _FormInvalid as invalid:
        return _detail(request, confirmation, bound={invalid.name: invalid.form}, status=400)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return _detail(request, _confirmation(request, confirmation_id), status=400)
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, _confirmation(request, confirmation_id), status=409)
    messages.success(request, done)
    confirmation.refresh_from_db()
    if action == "ruling" and confirmation.ruling_id:
        return redirect(reverse("court_document_sign", args=[confirmation.ruling_id]))
    if action == "assign":
        return redirect("confirmation_queue")
    return redirect("confirmation_detail", confirmation_id=confirmation.pk)


@login_required
@require_POST
def resume_after_rejection(request, case_id):
    """The mediator takes a case whose settlement the court rejected back into mediation."""
    case = case_for(request.user, case_id)
    if case is None:
        raise Http404
    if not policy.can_on_case(request.user, "resume", case):
        raise PermissionDenied
    try:
        agreement = court.resume_mediation_after_rejection(case=case, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("case_detail", case_id=case.pk)
    messages.success(request, _("The case is back in mediation: amend the agreement, then lock it for signatures."))
    return redirect("agreement_detail", agreement_id=agreement.pk)
