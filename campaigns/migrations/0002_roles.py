from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial"), ("billing", "0006_tax_label")]

    # Operators run campaigns; the secretariat too; auditors read them. Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
