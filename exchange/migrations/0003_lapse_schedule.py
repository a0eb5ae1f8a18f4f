import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule


def schedule_lapse(apps, schema_editor):
    """Reservations not collected by their last day lapse at 00:20 Tokyo time, after the points' expiry."""
    schedule_daily(
        apps, name="lapse-exchange-reservations", func="exchange.tasks.lapse_reservations", at=datetime.time(0, 20)
    )


def unschedule_lapse(apps, schema_editor):
    unschedule(apps, name="lapse-exchange-reservations")


class Migration(migrations.Migration):
    dependencies = [("exchange", "0002_roles"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(schedule_lapse, unschedule_lapse)]
