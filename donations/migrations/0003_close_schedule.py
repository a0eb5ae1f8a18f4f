import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule


def schedule_close(apps, schema_editor):
    """Every night at 00:40 Tokyo time, after the billing close (00:30): each programme's last month of
    donations is closed once it has ended."""
    schedule_daily(
        apps, name="close-donation-months", func="donations.tasks.close_due_donations", at=datetime.time(0, 40)
    )


def unschedule_close(apps, schema_editor):
    unschedule(apps, name="close-donation-months")


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0002_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_close, unschedule_close)]
