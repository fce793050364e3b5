"""Mediation-case pages: the mediator's list, a case's page with its actions, a
party's own cases, and the invitation link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mediation import phones, policy
from mediation.actions.cases import CASE_ACTIONS, PARTY_ACTIONS
from mediation.case_list_forms import CaseListFilterForm
from mediation.client_address import client_ip
from mediation.errors import DomainError
from mediation.forms import AcceptInvitationForm, CaseForm
from mediation.links import qr_svg, site_url_mismatch
from mediation.pagination import DeskPaginator
from mediation.selectors import case_list as case_list_selectors
from mediation.selectors import cases as selectors
from mediation.selectors.case_deadlines import supervision_page_data
from mediation.selectors.case_list import CaseListFilters
from mediation.selectors.delegation import with_delegation_flags
from mediation.services import cases as services
from mediation.services import invitations
from mediation.services.cases import CASE_ACTION_LABELS
from mediation.services.invitations import InvitationInvalid, invitation_url
from mediation.verification_codes import CodeRefused
from mediation.views.actions import action_forms_context, take_action
from mediation.views.forms import attach_errors
from mediation.views.identity import identity_check_entries

CASE_LIST_PAGE_SIZE = 25


@login_required
def case_list(request):
    if not policy.can_see_cases(request.user):
        raise PermissionDenied
    form = CaseListFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # Bad parameters (a stale link, a hand-edited URL): say what was not
        # understood and list the cases by the rest.
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(
                request, _("%(field)s: %(error)s This filter was left out.") % {"field": label, "error": errors[0]}
            )
    filters = form.filters() if form.is_bound else CaseListFilters()
    cases = with_delegation_flags(case_list_selectors.case_list(request.user, filters), request.user)
    page = DeskPaginator(cases, CASE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "mediation/case_list.html",
        {
            "form": form,
            "page": page,
            "filtered": filters.any,
            "query_string": query_without_page.urlencode(),
            "can_open": policy.can_on_case(request.user, "open"),
        },
    )


@login_required
def case_new(request):
    if not policy.can_on_case(request.user, "open"):
        raise PermissionDenied
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_mediation_case(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(
                request, _("Mediation case %(number)s opened. Add the parties next.") % {"number": case.number}
            )
            return redirect("case_detail", case_id=case.pk)
    return render(request, "mediation/case_new.html", {"form": form}, status=400 if form.errors else 200)


def _load(request, case_id):
    case = selectors.case_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


def _party_entries(case, parties, actions_apart: dict, bound_forms: dict) -> list[dict]:
    """Each party with the forms of the party actions offered now (to correct it, to
    remove it), filled with its details; after a failed post, that party's form is
    the bound one with its errors."""
    entries = []
    for party in parties:
        forms = []
        for name, offered in actions_apart.items():
            bound = bound_forms.get(name)
            if bound is not None and str(bound["party"].value()) == str(party.pk):
                form = bound
            else:
                form = offered.action.form_class(prefix=name, case=case, party=party)
            forms.append({"offered": offered, "form": form})
        entries.append({"party": party, "actions": forms})
    return entries


@login_required
def case_detail(request, case_id, *, bound_forms=None, status=200, new_invitation=None, identity_form=None):
    case = _load(request, case_id)
    actions = action_forms_context(CASE_ACTIONS, request.user, case, bound_forms, apart=PARTY_ACTIONS)
    page = selectors.case_page_data(case, request.user)
    today = timezone.localdate()
    supervision = supervision_page_data(case, request.user, is_staff_view=page["is_staff_view"], today=today)
    may_invite = "invite" in actions["action_forms"] or new_invitation is not None
    if new_invitation is not None:
        new_invitation["qr"] = qr_svg(new_invitation["url"], title=_("Invitation link"))
    return render(
        request,
        "mediation/case_detail.html",
        {
            "case": case,
            **actions,
            "new_invitation": new_invitation,
            # Links sent from here point to SITE_URL: say so when this is not it.
            "site_url_mismatch": site_url_mismatch(request) if may_invite else None,
            "today": today,
            **page,
            **supervision,
            "party_entries": _party_entries(case, page["parties"], actions["actions_apart"], bound_forms or {}),
            "identity_checks": identity_check_entries(case, request.user, page["participants"], identity_form),
        },
        status=status,
    )


@login_required
@require_POST
def case_action(request, case_id, action):
    case = _load(request, case_id)

    def render_page(**kwargs):
        return case_detail(request, case_id, **kwargs)

    def on_success(done, result):
        if done.name == "invite":
            invitation, raw_token = result
            # The link is shown once, on this response; only its hash is stored.
            return case_detail(
                request,
                case_id,
                new_invitation={
                    "invitation": invitation,
                    "url": invitation_url(raw_token),
                    "asks_id_number": invitations.needs_id_number(invitation),
                },
            )
        messages.success(request, _("%(action)s: done.") % {"action": CASE_ACTION_LABELS.get(done.name, done.name)})
        return redirect("case_detail", case_id=case_id)

    return take_action(request, CASE_ACTIONS, case, action, render_page=render_page, on_success=on_success)


@login_required
def my_cases(request):
    return render(request, "mediation/my_cases.html", {"cases": selectors.participant_cases(request.user)})


INVALID_STATUS = {
    "unknown": 404,
    "court_staff": 403,
    "second_factor": 403,
    "other_person": 403,
    "signed_in_as_another": 403,
}


def _invitation_invalid(request, error: DomainError, status: int | None = None):
    return render(
        request,
        "mediation/invitation_invalid.html",
        {"reason": error.message, "code": error.code},
        status=status or INVALID_STATUS.get(error.code, 410),
    )


def invitation(request, token):
    """The page an invitation link opens: who invites, to what, and how to check it is
    genuine; then a code texted to the invited number (masked here), and, where the
    court recorded the party's ID number, that number. The right code joins the case:
    the account with that number (signed in now), the signed-in one, or a new one."""
    user = request.user if request.user.is_authenticated else None
    try:
        invitation = invitations.check_invitation(token, user=user)
    except InvitationInvalid as error:
        return _invitation_invalid(request, error)
    needs_id_number = invitations.needs_id_number(invitation)
    form = AcceptInvitationForm(needs_id_number=needs_id_number)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "send_code":
        try:
            invitations.send_invitation_code(
                raw_token=token, user=user, client_address=client_ip(request), language=get_language()
            )
        except InvitationInvalid as error:
            return _invitation_invalid(request, error)
        except CodeRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("A code was texted to %(phone)s. It is valid for 5 minutes.")
                % {"phone": phones.mask(invitation.phone)},
            )
        return redirect("invitation", token=token)
    if request.method == "POST":
        form = AcceptInvitationForm(request.POST, needs_id_number=needs_id_number)
        if form.is_valid():
            try:
                acceptance = invitations.accept_invitation(
                    raw_token=token,
                    code=form.cleaned_data["code"],
                    id_number=form.cleaned_data.get("id_number", ""),
                    user=user,
                )
            except InvitationInvalid as error:
                return _invitation_invalid(request, error)
            except CodeRefused as error:
                form.add_error("code", error.message)
                status = 429 if error.code == "too_many_tries" else 400
            except ValidationError as error:
                attach_errors(form, error)
                status = 400
            except DomainError as error:
                return _invitation_invalid(request, error, status=409)
            else:
                if acceptance.account != request.user:
                    # The code proved the person holds this number: its account is theirs.
                    login(request, acceptance.account, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request,
                    _("You now take part in mediation case %(number)s.")
                    % {"number": acceptance.participant.case.number},
                )
                return redirect("case_detail", case_id=acceptance.participant.case_id)
        else:
            status = 400
    return render(
        request,
        "mediation/invitation.html",
        {
            "invitation": invitation,
            "token": token,
            "form": form,
            "masked_phone": phones.mask(invitation.phone),
            **selectors.invitation_page_data(invitation),
        },
        status=status,
    )
