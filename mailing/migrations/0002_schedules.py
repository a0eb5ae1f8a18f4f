import datetime

from django.db import migrations

from common.schedules import schedule_every_minutes, schedule_monthly, unschedule


def schedule(apps, schema_editor):
    # Scheduled mailings start within a minute of their time; a sending whose worker died is taken up again.
    schedule_every_minutes(apps, name="mailing-send-due", func="mailing.tasks.send_due_mailings", minutes=1)
    # The monthly reminder of points expiring next month, for each programme whose reminder is active: on the
    # 1st at 10:00 Tokyo, when members read their mail, not at midnight.
    schedule_monthly(
        apps, name="mailing-expiry-reminders", func="mailing.tasks.send_expiry_reminders", at=datetime.time(10, 0)
    )


def unschedule_mailing(apps, schema_editor):
    unschedule(apps, name="mailing-send-due")
    unschedule(apps, name="mailing-expiry-reminders")


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule_mailing)]
