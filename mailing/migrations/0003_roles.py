from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("mailing", "0002_schedules")]

    # Operators write, schedule and send mailings and reminders and read the send log; the secretariat does
    # all of it; auditors read.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
