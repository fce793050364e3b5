"""The roster's management pages under /organisations/: the general liaison manages
organisations, their admins and appointments; an organisation's admins manage their
own mediators' public profiles. Each view parses, authorises, calls one service and
renders; another organisation's pages are 403 to an organisation admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mediation import policy
from mediation.models import MediationOrganisation, MediatorProfile, User
from mediation.roster_forms import (
    AppointMediatorForm,
    AppointmentForm,
    OrganisationAdminForm,
    OrganisationForm,
    ProfileForm,
)
from mediation.selectors import roster as selectors
from mediation.services import roster as services
from mediation.views.forms import attach_errors


def _require(request, action: str, target=None) -> None:
    if not policy.can_on_roster(request.user, action, target):
        raise PermissionDenied


def _organisation(request, organisation_id) -> MediationOrganisation:
    organisation = get_object_or_404(MediationOrganisation, pk=organisation_id)
    _require(request, "view_organisation", organisation)
    return organisation


def _profile(request, profile_id, action: str) -> MediatorProfile:
    profile = get_object_or_404(MediatorProfile.objects.select_related("user", "organisation"), pk=profile_id)
    _require(request, action, profile)
    return profile


@login_required
def organisation_list(request):
    _require(request, "see_organisations")
    return render(
        request,
        "mediation/roster/organisation_list.html",
        {
            "organisations": selectors.visible_organisations(request.user),
            "may_manage": policy.can_on_roster(request.user, "manage_organisations"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_new(request):
    _require(request, "manage_organisations")
    form = OrganisationForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_organisation(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("%(name)s is on the roster.") % {"name": organisation.name})
            return redirect("organisation_detail", organisation_id=organisation.pk)
    return render(
        request,
        "mediation/roster/organisation_form.html",
        {"form": form, "organisation": None},
        status=400 if form.errors else 200,
    )


@login_required
def organisation_detail(request, organisation_id, *, admin_form=None, status=200):
    organisation = _organisation(request, organisation_id)
    may_manage = policy.can_on_roster(request.user, "manage_organisations")
    return render(
        request,
        "mediation/roster/organisation_detail.html",
        {
            "organisation": organisation,
            "mediators": selectors.organisation_mediators(organisation),
            "admins": organisation.admins.order_by("full_name", "id"),
            "may_manage": may_manage,
            "may_appoint": policy.can_on_roster(request.user, "appoint"),
            "admin_form": admin_form or (OrganisationAdminForm(organisation=organisation) if may_manage else None),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request, organisation_id):
    organisation = _organisation(request, organisation_id)
    _require(request, "manage_organisations")
    form = OrganisationForm.for_organisation(organisation, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(actor=request.user, organisation=organisation, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("The organisation's details are saved."))
            return redirect("organisation_detail", organisation_id=organisation.pk)
    return render(
        request,
        "mediation/roster/organisation_form.html",
        {"form": form, "organisation": organisation},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def organisation_admins(request, organisation_id):
    """Add (`action=add`, `user`) or remove (`action=remove`, `user`) an admin."""
    organisation = _organisation(request, organisation_id)
    _require(request, "manage_organisations")
    if request.POST.get("action") == "remove":
        user = get_object_or_404(User, pk=request.POST.get("user") or 0)
        try:
            services.remove_organisation_admin(actor=request.user, organisation=organisation, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s no longer administers the organisation.") % {"name": user})
        return redirect("organisation_detail", organisation_id=organisation.pk)
    form = OrganisationAdminForm(request.POST, organisation=organisation)
    if form.is_valid():
        user = form.cleaned_data["user"]
        try:
            services.add_organisation_admin(actor=request.user, organisation=organisation, user=user)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("%(name)s now administers the organisation.") % {"name": user})
            return redirect("organisation_detail", organisation_id=organisation.pk)
    return organisation_detail(request, organisation.pk, admin_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def mediator_appoint(request, organisation_id):
    organisation = _organisation(request, organisation_id)
    _require(request, "appoint")
    form = AppointMediatorForm(request.POST or None, initial={"organisation": organisation, "is_published": True})
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            profile = services.appoint_mediator(actor=request.user, **fields)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("%(name)s is appointed to the roster.") % {"name": profile.user})
            return redirect("organisation_detail", organisation_id=profile.organisation_id)
    return render(
        request,
        "mediation/roster/mediator_form.html",
        {"form": form, "organisation": organisation, "profile": None, "heading": _("Appoint a mediator")},
        status=400 if form.errors else 200,
    )


def _profile_form_page(request, profile, form, *, save, saved: str, heading: str):
    """The appointment's and the public profile's pages: one form of a mediator's
    profile, saved by `save(**cleaned_data)` (a roster service) and back to the
    organisation's page."""
    if request.method == "POST" and form.is_valid():
        try:
            profile = save(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, saved % {"name": profile.user})
            return redirect("organisation_detail", organisation_id=profile.organisation_id)
    return render(
        request,
        "mediation/roster/mediator_form.html",
        {"form": form, "organisation": profile.organisation, "profile": profile, "heading": heading},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mediator_appointment_edit(request, profile_id):
    profile = _profile(request, profile_id, "appoint")
    return _profile_form_page(
        request,
        profile,
        AppointmentForm.for_profile(profile, request.POST or None),
        save=services.update_appointment,
        saved=_("The appointment of %(name)s is saved."),
        heading=_("Appointment of %(name)s") % {"name": profile.user},
    )


@login_required
@require_http_methods(["GET", "POST"])
def mediator_profile_edit(request, profile_id):
    profile = _profile(request, profile_id, "edit_profile")
    return _profile_form_page(
        request,
        profile,
        ProfileForm.for_profile(profile, request.POST or None),
        save=services.update_mediator_profile,
        saved=_("The profile of %(name)s is saved."),
        heading=_("Profile of %(name)s") % {"name": profile.user},
    )
