from django.db import migrations, models


def blank_addresses_to_null(apps, schema_editor):
    """An account without an address stores NULL, never "" (unique would allow only
    one such account)."""
    apps.get_model("mediation", "User").objects.filter(email="").update(email=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0019_invitation_wrong_id_numbers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(blank=True, max_length=254, null=True, unique=True, verbose_name="email address"),
        ),
        migrations.RunPython(blank_addresses_to_null, migrations.RunPython.noop),
    ]
