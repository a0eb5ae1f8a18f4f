import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule


def schedule_expiry(apps, schema_editor):
    """The nightly expiry runs at 00:05 Tokyo time, after the day's last purchases."""
    schedule_daily(apps, name="expire-lapsed-lots", func="points.tasks.expire_lapsed_lots", at=datetime.time(0, 5))


def unschedule_expiry(apps, schema_editor):
    unschedule(apps, name="expire-lapsed-lots")


class Migration(migrations.Migration):
    dependencies = [("points", "0002_append_only"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(schedule_expiry, unschedule_expiry)]
