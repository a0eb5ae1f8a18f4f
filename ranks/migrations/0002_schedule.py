import datetime

from django.db import migrations

from common.append_only import MakeAppendOnly
from common.schedules import schedule_daily, unschedule


def schedule(apps, schema_editor):
    """Ranks are placed at 00:00 Tokyo, on the purchases up to the day before."""
    schedule_daily(apps, name="evaluate-ranks", func="ranks.tasks.evaluate_ranks", at=datetime.time(0, 0))


def unschedule_ranks(apps, schema_editor):
    unschedule(apps, name="evaluate-ranks")


class Migration(migrations.Migration):
    dependencies = [("ranks", "0001_initial"), ("django_q", "0018_task_success_index")]

    # A rank change, once recorded, is never changed or deleted (PostgreSQL refuses it by trigger).
    operations = [MakeAppendOnly("ranks_rankrecord"), migrations.RunPython(schedule, unschedule_ranks)]
