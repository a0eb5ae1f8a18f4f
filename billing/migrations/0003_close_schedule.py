import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule


def schedule_close(apps, schema_editor):
    """Every night at 00:30 Tokyo time; it closes a period only once it has ended, so month end is caught."""
    schedule_daily(
        apps, name="close-billing-periods", func="billing.tasks.close_due_periods", at=datetime.time(0, 30)
    )


def unschedule_close(apps, schema_editor):
    unschedule(apps, name="close-billing-periods")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_append_only_and_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_close, unschedule_close)]
