from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("donations", "0001_initial"), ("exchange", "0002_roles")]

    # The secretariat registers organisations, records donations at the desk and closes the month; auditors
    # read. Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
