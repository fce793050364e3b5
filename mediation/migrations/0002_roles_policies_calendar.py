"""Staff roles as groups, the default deadline policies, and the official holiday
schedule of the chinesecalendar package."""

from django.db import migrations

ROLES = ["general_liaison", "department_liaison", "department_head", "judge", "mediator", "api_client"]

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


def create_roles_and_policies(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    DeadlinePolicy = apps.get_model("mediation", "DeadlinePolicy")
    for category, (hours, days) in DEFAULT_POLICIES.items():
        DeadlinePolicy.objects.get_or_create(
            category=category, defaults={"first_contact_hours": hours, "completion_working_days": days}
        )


def load_calendar(apps, schema_editor):
    from mediation.services.calendar import load_official_calendar

    load_official_calendar(apps.get_model("mediation", "CalendarDay"), apps.get_model("mediation", "CalendarYear"))


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_roles_and_policies, migrations.RunPython.noop),
        migrations.RunPython(load_calendar, migrations.RunPython.noop),
    ]
