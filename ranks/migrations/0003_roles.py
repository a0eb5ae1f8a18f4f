from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("ranks", "0002_schedule")]

    # The secretariat sets ladders and rules and reads ranks; operators read the ladders; auditors read all.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
