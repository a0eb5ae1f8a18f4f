import datetime
from zoneinfo import ZoneInfo

from django.db import migrations


def schedule_close(apps, schema_editor):
    """Every night at 00:30 Tokyo time; it closes a period only once it has ended, so month end is caught."""
    Schedule = apps.get_model("django_q", "Schedule")
    tokyo = ZoneInfo("Asia/Tokyo")
    tomorrow = datetime.datetime.now(tokyo).date() + datetime.timedelta(days=1)
    Schedule.objects.update_or_create(
        name="close-billing-periods",
        defaults={
            "func": "billing.tasks.close_due_periods",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": datetime.datetime.combine(tomorrow, datetime.time(0, 30), tzinfo=tokyo),
        },
    )


def unschedule_close(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="close-billing-periods").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_append_only_and_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_close, unschedule_close)]
