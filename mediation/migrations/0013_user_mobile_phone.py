import phonenumber_field.modelfields
from django.db import migrations, models


def numbers_in_e164(apps, schema_editor):
    """Accounts' phones as typed become E.164; one that is not a valid number, or that
    an earlier account already has, is dropped (a phone is one person's now)."""
    from mediation.phones import parse

    User = apps.get_model("mediation", "User")
    taken = set()
    for user in User.objects.exclude(phone="").exclude(phone__isnull=True).order_by("id"):
        number = parse(user.phone)
        value = number.as_e164 if number is not None else None
        if value in taken:
            value = None
        if value:
            taken.add(value)
        User.objects.filter(pk=user.pk).update(phone=value)
    User.objects.filter(phone="").update(phone=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0012_sms_and_phone_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="phone_verified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="phone verified at"),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=models.CharField(blank=True, max_length=32, null=True, verbose_name="phone"),
        ),
        migrations.RunPython(numbers_in_e164, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True, max_length=32, null=True, region=None, unique=True, verbose_name="mobile phone"
            ),
        ),
    ]
