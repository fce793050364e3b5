"""Staff roles as groups, the default deadline policies, and the official holiday
schedule of the chinesecalendar package."""

from django.db import migrations


def create_reference_data(apps, schema_editor):
    from mediation.reference_data import ensure_reference_data

    ensure_reference_data(
        group_model=apps.get_model("auth", "Group"),
        policy_model=apps.get_model("mediation", "DeadlinePolicy"),
        calendar_day_model=apps.get_model("mediation", "CalendarDay"),
        calendar_year_model=apps.get_model("mediation", "CalendarYear"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_reference_data, migrations.RunPython.noop)]
