from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("rallies", "0001_initial"), ("campaigns", "0002_roles")]

    # Operators run rallies and their goals; the secretariat too, and it draws the prizes; auditors read.
    # Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
