from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("legacy", "0001_initial")]

    # The secretariat brings old systems over (and rolls an import back); auditors read the imports.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
