"""The secretariat's name, address and phone move from the billing settings to the programme (which the
exchange slip prints too, without reading billing): copied over, then removed here."""

from django.db import migrations

FIELDS = {
    "name": "issuer_name",
    "postal_code": "issuer_postal_code",
    "address": "issuer_address",
    "phone": "issuer_phone",
}


def to_programme(apps, schema_editor):
    BillingSettings = apps.get_model("billing", "BillingSettings")
    Programme = apps.get_model("points", "Programme")
    for settings in BillingSettings.objects.all():
        Programme.objects.filter(pk=settings.programme_id).update(
            **{f"secretariat_{name}": getattr(settings, old) for name, old in FIELDS.items()}
        )


def to_billing(apps, schema_editor):
    BillingSettings = apps.get_model("billing", "BillingSettings")
    for settings in BillingSettings.objects.select_related("programme"):
        for name, old in FIELDS.items():
            setattr(settings, old, getattr(settings.programme, f"secretariat_{name}"))
        settings.issuer_name = settings.issuer_name or settings.programme.name
        settings.save()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_tax_label"),
        ("points", "0009_programme_secretariat"),
    ]

    operations = [
        migrations.RunPython(to_programme, to_billing),
        migrations.RemoveField(model_name="billingsettings", name="issuer_address"),
        migrations.RemoveField(model_name="billingsettings", name="issuer_name"),
        migrations.RemoveField(model_name="billingsettings", name="issuer_phone"),
        migrations.RemoveField(model_name="billingsettings", name="issuer_postal_code"),
    ]
