import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule


def schedule_expiry(apps, schema_editor):
    """Coupons past their last valid day are marked expired at 00:10 Tokyo time, after the points' expiry."""
    schedule_daily(
        apps, name="expire-lapsed-coupons", func="coupons.tasks.expire_lapsed_coupons", at=datetime.time(0, 10)
    )


def unschedule_expiry(apps, schema_editor):
    unschedule(apps, name="expire-lapsed-coupons")


class Migration(migrations.Migration):
    dependencies = [("coupons", "0002_roles"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(schedule_expiry, unschedule_expiry)]
