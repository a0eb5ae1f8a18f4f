import datetime

from django.db import migrations

from common.schedules import schedule_daily, schedule_every_minutes, unschedule
from loyalty.roles import migrate_role_groups

NIGHTLY = "refresh-analytics-summaries"
TODAY = "refresh-analytics-today"


def schedule(apps, schema_editor):
    # After midnight (and the expiry at 00:05), yesterday becomes final; through the day, every 5 minutes.
    schedule_daily(apps, name=NIGHTLY, func="analytics.tasks.refresh_summaries", at=datetime.time(0, 15))
    schedule_every_minutes(apps, name=TODAY, func="analytics.tasks.refresh_today", minutes=5)


def unschedule_all(apps, schema_editor):
    unschedule(apps, name=NIGHTLY)
    unschedule(apps, name=TODAY)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("rallies", "0002_roles"),
        ("exchange", "0002_roles"),
        ("legacy", "0002_roles"),
        ("ranks", "0003_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        # The secretariat, operators and auditors read the reports.
        migrations.RunPython(migrate_role_groups, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule_all),
    ]
