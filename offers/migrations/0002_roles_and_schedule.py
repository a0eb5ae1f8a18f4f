import datetime

from django.db import migrations

from common.schedules import schedule_daily, unschedule
from loyalty.roles import migrate_role_groups

SETTLE = "settle-due-offers"


def schedule(apps, schema_editor):
    # Before the close (00:30): benefits whose waiting period ended yesterday are paid in their month.
    schedule_daily(apps, name=SETTLE, func="offers.tasks.settle_due_offers", at=datetime.time(0, 25))


def unschedule_all(apps, schema_editor):
    unschedule(apps, name=SETTLE)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0001_initial"),
        ("analytics", "0002_roles_and_schedules"),
        ("mailing", "0003_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        # The secretariat runs offers; operators and auditors read them.
        migrations.RunPython(migrate_role_groups, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule_all),
    ]
