"""Rows the platform cannot run without: the roles, the default deadline policies and
the official holiday calendar. Created by migration 0002 and ensured again after
every `migrate` or `flush` (post_migrate), so an emptied database heals itself.
Takes the model classes, so that the migration can pass its historical models."""

ROLES = [
    "general_liaison",
    "department_liaison",
    "department_head",
    "judge",
    "mediator",
    "organisation_admin",
    "api_client",
]

# category: (first contact within N hours, completion within N working days)
DEFAULT_POLICIES = {
    "contact_judge": (24, 3),
    "consultation": (24, 3),
    "case_query": (24, 2),
    "materials": (24, 3),
    "urge": (24, 3),
    "mediation_request": (24, 5),
    "complaint": (24, 10),
    "other": (24, 5),
}


def ensure_reference_data(*, group_model, policy_model, calendar_day_model, calendar_year_model) -> None:
    from mediation.services.calendar import load_official_calendar

    for name in ROLES:
        group_model.objects.get_or_create(name=name)
    for category, (hours, days) in DEFAULT_POLICIES.items():
        policy_model.objects.get_or_create(
            category=category, defaults={"first_contact_hours": hours, "completion_working_days": days}
        )
    if not calendar_year_model.objects.exists():
        load_official_calendar(calendar_day_model, calendar_year_model)
