"""Staff roles. Each is a Django group created by a migration; a party's rights never
come from a group, only from their participation in a case."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GENERAL_LIAISON = "general_liaison", _("General liaison")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    JUDGE = "judge", _("Judge")
    MEDIATOR = "mediator", _("Mediator")
    # Administers one or more mediation organisations of the roster (the scope is
    # MediationOrganisation.admins): manages their mediators, dispatches delegations.
    ORGANISATION_ADMIN = "organisation_admin", _("Mediation organisation administrator")


# Integration systems (the hotline, the WeChat account) act through API tokens whose
# users belong to this group. It is not a person's role.
API_CLIENT_GROUP = "api_client"


def has_role(user, role: str) -> bool:
    if not user.is_authenticated:
        return False
    roles = getattr(user, "_role_cache", None)
    if roles is None:
        roles = set(user.groups.values_list("name", flat=True))
        user._role_cache = roles
    return role in roles


def is_court_staff(user) -> bool:
    """Whether this account belongs to the court's side: an administrator, a member of
    a staff role's group, or an integration's service account. Such an account never
    takes part in a case for a party (`attach_participant` refuses it): a department
    head acting as a plaintiff's agent would see both sides' business."""
    if user.is_staff or user.is_superuser:
        return True
    roles = getattr(user, "_role_cache", None)
    if roles is None:
        roles = set(user.groups.values_list("name", flat=True))
        user._role_cache = roles
    return bool(roles & (set(Role.values) | {API_CLIENT_GROUP}))
