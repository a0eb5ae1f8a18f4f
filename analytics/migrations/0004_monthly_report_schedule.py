import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule
from loyalty.roles import migrate_role_groups

MONTHLY = "make-monthly-reports"


def schedule(apps, schema_editor):
    # Every night after the close (00:30) and the donations' (00:40): a programme's report of its last period
    # is made the first night the period is closed (at once where nothing is billed), then never again.
    schedule_daily(apps, name=MONTHLY, func="analytics.tasks.make_due_monthly_reports", at=datetime.time(1, 0))


def unschedule_monthly(apps, schema_editor):
    unschedule(apps, name=MONTHLY)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_monthly_reports"),
        ("stores", "0005_merchant_monthly_report"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        # Everyone who reads the reports reads the monthly ones; the secretariat makes them by hand.
        migrations.RunPython(migrate_role_groups, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule_monthly),
    ]
