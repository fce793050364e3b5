"""The roster's changes, one verb each: organisations (the general liaison), their
admins, appointments (a mediator's organisation, term and status: the court's
decisions) and a mediator's public profile (the court or the mediator's own
organisation's admins).

Every function checks the actor (`mediation.policy.can_on_roster`) and the values
first, then changes the rows under a lock and writes one audit entry naming what
changed, in one transaction. A ValidationError (per field) or ActionForbidden means
nothing changed. Who may be given a case is `mediation.roster.assignment_refusal`.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from mediation import audit, causes, policy
from mediation.errors import ActionForbidden
from mediation.models import MediationOrganisation, MediatorProfile, MediatorSpecialty, User
from mediation.roles import Role, has_role

ORGANISATION_FIELDS = (
    "name",
    "kind",
    "region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "description",
    "is_published",
    "is_active",
)
# What an organisation's admin may change on their mediators' entries.
PROFILE_FIELDS = ("title", "region", "languages", "biography", "fee", "is_published")
# The court's appointment decision.
APPOINTMENT_FIELDS = ("organisation", "term_starts_on", "term_ends_on", "status", "status_reason")
TEXT_LIMITS = {
    "name": 200,
    "region": 100,
    "address": 300,
    "contact_name": 100,
    "contact_phone": 40,
    "contact_email": 254,
    "description": 1000,
    "title": 100,
    "languages": 200,
    "biography": 1000,
    "fee": 200,
    "status_reason": 300,
}


def _authorise(actor: User, action: str, target=None) -> None:
    if not policy.can_on_roster(actor, action, target):
        raise ActionForbidden(_("You may not change this part of the roster."))


def _clean_text(values: dict, errors: dict, field: str, value, *, required: bool = False) -> None:
    text = str(value or "").strip()
    if required and not text:
        errors[field] = _("This is required.")
    elif len(text) > TEXT_LIMITS[field]:
        errors[field] = _("At most %(limit)d characters; this has %(count)d.") % {
            "limit": TEXT_LIMITS[field],
            "count": len(text),
        }
    values[field] = text


def _clean_organisation(fields: dict, *, instance: MediationOrganisation | None) -> dict:
    errors: dict = {}
    values: dict = {}
    for field in ("name", "region", "address", "contact_name", "contact_phone", "contact_email", "description"):
        value = fields.get(field, getattr(instance, field, ""))
        _clean_text(values, errors, field, value, required=field in ("name", "region"))
    kind = fields.get("kind", getattr(instance, "kind", ""))
    if kind not in MediationOrganisation.Kind.values:
        errors["kind"] = _("Choose the kind of organisation.")
    values["kind"] = kind
    if values["contact_email"] and "contact_email" not in errors:
        try:
            validate_email(values["contact_email"])
        except ValidationError:
            errors["contact_email"] = _("Enter a valid email address.")
    for flag in ("is_published", "is_active"):
        values[flag] = bool(fields.get(flag, getattr(instance, flag, flag == "is_active")))
    if values["name"] and "name" not in errors:
        same_name = MediationOrganisation.objects.filter(name=values["name"])
        if instance is not None:
            same_name = same_name.exclude(pk=instance.pk)
        if same_name.exists():
            errors["name"] = _("An organisation of this name is on the roster already.")
    if (
        instance is not None
        and kind != MediationOrganisation.Kind.COMMERCIAL
        and instance.mediators.exclude(fee="").exists()
    ):
        errors["kind"] = _(
            "Only a commercial organisation may charge a fee: remove the fees from its mediators' profiles first."
        )
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def create_organisation(*, actor: User, **fields) -> MediationOrganisation:
    """Put an organisation on the roster (the general liaison)."""
    _authorise(actor, "manage_organisations")
    values = _clean_organisation(fields, instance=None)
    organisation = MediationOrganisation.objects.create(**values)
    audit.record(
        actor=actor,
        action="roster.organisation_created",
        target=organisation,
        data={"kind": organisation.kind, "published": organisation.is_published, "active": organisation.is_active},
    )
    return organisation


@transaction.atomic
def update_organisation(*, actor: User, organisation: MediationOrganisation, **fields) -> MediationOrganisation:
    """Change an organisation's details, publication or activity (the general liaison).
    Fields left out keep their value."""
    _authorise(actor, "manage_organisations")
    organisation = MediationOrganisation.objects.select_for_update().get(pk=organisation.pk)
    values = _clean_organisation(fields, instance=organisation)
    changed = [field for field, value in values.items() if getattr(organisation, field) != value]
    if not changed:
        return organisation
    for field in changed:
        setattr(organisation, field, values[field])
    organisation.save(update_fields=[*changed, "updated_at"])
    audit.record(
        actor=actor,
        action="roster.organisation_updated",
        target=organisation,
        data={
            "changed": changed,
            "kind": organisation.kind,
            "published": organisation.is_published,
            "active": organisation.is_active,
        },
    )
    return organisation


@transaction.atomic
def add_organisation_admin(*, actor: User, organisation: MediationOrganisation, user: User) -> None:
    """Make a member of the organisation_admin group an admin of the organisation."""
    _authorise(actor, "manage_organisations")
    organisation = MediationOrganisation.objects.select_for_update().get(pk=organisation.pk)
    if not user.is_active or not has_role(user, Role.ORGANISATION_ADMIN):
        raise ValidationError({"user": _("%(name)s is not a mediation organisation administrator.") % {"name": user}})
    if organisation.admins.filter(pk=user.pk).exists():
        raise ValidationError({"user": _("%(name)s administers this organisation already.") % {"name": user}})
    organisation.admins.add(user)
    audit.record(actor=actor, action="roster.admin_added", target=organisation, data={"user": user.pk})


@transaction.atomic
def remove_organisation_admin(*, actor: User, organisation: MediationOrganisation, user: User) -> None:
    _authorise(actor, "manage_organisations")
    organisation = MediationOrganisation.objects.select_for_update().get(pk=organisation.pk)
    if not organisation.admins.filter(pk=user.pk).exists():
        raise ValidationError({"user": _("%(name)s does not administer this organisation.") % {"name": user}})
    organisation.admins.remove(user)
    audit.record(actor=actor, action="roster.admin_removed", target=organisation, data={"user": user.pk})


def _clean_specialties(specialties, errors: dict) -> list[str]:
    chosen = []
    for cause in specialties or ():
        if cause not in causes.CAUSES_OF_ACTION:
            errors["specialties"] = _("“%(value)s” is not a cause of action of the roster.") % {"value": cause}
        elif cause not in chosen:
            chosen.append(cause)
    return chosen


def _clean_profile(fields: dict, *, organisation: MediationOrganisation, instance: MediatorProfile | None) -> dict:
    errors: dict = {}
    values: dict = {}
    for field in ("title", "region", "languages", "biography", "fee"):
        _clean_text(values, errors, field, fields.get(field, getattr(instance, field, "")))
    values["is_published"] = bool(fields.get("is_published", getattr(instance, "is_published", True)))
    if values["fee"] and organisation.kind != MediationOrganisation.Kind.COMMERCIAL:
        errors["fee"] = _(
            "Only mediators of a commercial mediation organisation may charge a fee; %(organisation)s is a %(kind)s."
        ) % {"organisation": organisation, "kind": organisation.get_kind_display().lower()}
    if "specialties" in fields:
        values["specialties"] = _clean_specialties(fields["specialties"], errors)
    if errors:
        raise ValidationError(errors)
    return values


def _clean_appointment(fields: dict, *, instance: MediatorProfile | None) -> dict:
    errors: dict = {}
    values: dict = {}
    organisation = fields.get("organisation", getattr(instance, "organisation", None))
    if not isinstance(organisation, MediationOrganisation):
        errors["organisation"] = _("Choose the organisation.")
    values["organisation"] = organisation
    for field in ("term_starts_on", "term_ends_on"):
        value = fields.get(field, getattr(instance, field, None))
        if not isinstance(value, dt.date):
            errors[field] = _("Give the date, e.g. 2026-01-01.")
        values[field] = value
    dates_given = "term_starts_on" not in errors and "term_ends_on" not in errors
    if dates_given and values["term_ends_on"] < values["term_starts_on"]:
        errors["term_ends_on"] = _("The appointment cannot end before it starts.")
    status = fields.get("status", getattr(instance, "status", MediatorProfile.Status.ACTIVE))
    if status not in MediatorProfile.Status.values:
        errors["status"] = _("Choose the status.")
    values["status"] = status
    _clean_text(values, errors, "status_reason", fields.get("status_reason", getattr(instance, "status_reason", "")))
    if status != MediatorProfile.Status.ACTIVE and not values["status_reason"] and "status" not in errors:
        errors["status_reason"] = _("Say why the mediator is suspended or dismissed.")
    if errors:
        raise ValidationError(errors)
    return values


def _set_specialties(profile: MediatorProfile, chosen: list[str]) -> bool:
    current = set(profile.specialties.values_list("cause_of_action", flat=True))
    if current == set(chosen):
        return False
    profile.specialties.exclude(cause_of_action__in=chosen).delete()
    MediatorSpecialty.objects.bulk_create(
        [MediatorSpecialty(profile=profile, cause_of_action=cause) for cause in chosen if cause not in current]
    )
    return True


@transaction.atomic
def appoint_mediator(*, actor: User, user: User, specialties=(), **fields) -> MediatorProfile:
    """Appoint a member of the mediator group to the roster (the general liaison): their
    organisation, term and status, and the profile the public roster shows."""
    _authorise(actor, "appoint")
    user = User.objects.select_for_update().get(pk=user.pk)
    errors = {}
    if not user.is_active or not has_role(user, Role.MEDIATOR):
        errors["user"] = _("%(name)s is not a mediator: give them the mediator role first.") % {"name": user}
    elif MediatorProfile.objects.filter(user=user).exists():
        errors["user"] = _("%(name)s is on the roster already.") % {"name": user}
    try:
        appointment = _clean_appointment(fields, instance=None)
    except ValidationError as error:
        errors.update(error.message_dict)
        appointment = None
    organisation = appointment["organisation"] if appointment else fields.get("organisation")
    if isinstance(organisation, MediationOrganisation):
        try:
            profile_values = _clean_profile(
                {**fields, "specialties": specialties}, organisation=organisation, instance=None
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    chosen = profile_values.pop("specialties")
    profile = MediatorProfile.objects.create(user=user, **appointment, **profile_values)
    _set_specialties(profile, chosen)
    audit.record(
        actor=actor,
        action="roster.mediator_appointed",
        target=profile,
        data={
            "user": user.pk,
            "organisation": profile.organisation_id,
            "term": [profile.term_starts_on.isoformat(), profile.term_ends_on.isoformat()],
            "status": profile.status,
            "specialties": chosen,
        },
    )
    return profile


@transaction.atomic
def update_appointment(*, actor: User, profile: MediatorProfile, **fields) -> MediatorProfile:
    """Change an appointment (the general liaison): organisation, term, status with its
    reason. Fields left out keep their value."""
    _authorise(actor, "appoint")
    profile = MediatorProfile.objects.select_for_update().select_related("organisation").get(pk=profile.pk)
    values = _clean_appointment(fields, instance=profile)
    if profile.fee and values["organisation"].kind != MediationOrganisation.Kind.COMMERCIAL:
        raise ValidationError(
            {"organisation": _("Only a commercial organisation's mediators may charge a fee: remove the fee first.")}
        )
    if values["status"] == MediatorProfile.Status.ACTIVE:
        values["status_reason"] = ""
    changed = [field for field, value in values.items() if getattr(profile, field) != value]
    if not changed:
        return profile
    from_status = profile.status
    for field in changed:
        setattr(profile, field, values[field])
    profile.save(update_fields=[*changed, "updated_at"])
    audit.record(
        actor=actor,
        action="roster.appointment_changed",
        target=profile,
        data={
            "changed": changed,
            "organisation": profile.organisation_id,
            "term": [profile.term_starts_on.isoformat(), profile.term_ends_on.isoformat()],
            "from": from_status,
            "to": profile.status,
            "note": profile.status_reason,
        },
    )
    return profile


@transaction.atomic
def update_mediator_profile(*, actor: User, profile: MediatorProfile, **fields) -> MediatorProfile:
    """Change what the public roster says of a mediator (the general liaison, or an
    admin of the mediator's organisation): title, region, languages, biography, fee
    (commercial organisations only), specialties, publication. Not the term or the
    status: those are the court's (`update_appointment`)."""
    profile = MediatorProfile.objects.select_for_update().select_related("organisation").get(pk=profile.pk)
    _authorise(actor, "edit_profile", profile)
    unknown = set(fields) - {*PROFILE_FIELDS, "specialties"}
    if unknown:
        raise ActionForbidden(_("The term and status of an appointment are the court's to change."))
    values = _clean_profile(fields, organisation=profile.organisation, instance=profile)
    chosen = values.pop("specialties", None)
    changed = [field for field, value in values.items() if getattr(profile, field) != value]
    for field in changed:
        setattr(profile, field, values[field])
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    if chosen is not None and _set_specialties(profile, chosen):
        changed.append("specialties")
    if changed:
        audit.record(
            actor=actor,
            action="roster.profile_updated",
            target=profile,
            data={
                "changed": changed,
                "published": profile.is_published,
                "specialties": list(profile.specialties.values_list("cause_of_action", flat=True)),
            },
        )
    return profile
