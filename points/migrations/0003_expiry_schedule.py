import datetime
from zoneinfo import ZoneInfo

from django.db import migrations


def schedule_expiry(apps, schema_editor):
    """The nightly expiry runs at 00:05 Tokyo time, after the day's last purchases."""
    Schedule = apps.get_model("django_q", "Schedule")
    tokyo = ZoneInfo("Asia/Tokyo")
    tomorrow = datetime.datetime.now(tokyo).date() + datetime.timedelta(days=1)
    Schedule.objects.update_or_create(
        name="expire-lapsed-lots",
        defaults={
            "func": "points.tasks.expire_lapsed_lots",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": datetime.datetime.combine(tomorrow, datetime.time(0, 5), tzinfo=tokyo),
        },
    )


def unschedule_expiry(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="expire-lapsed-lots").delete()


class Migration(migrations.Migration):
    dependencies = [("points", "0002_append_only"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(schedule_expiry, unschedule_expiry)]
