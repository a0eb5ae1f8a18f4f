from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial"), ("coupons", "0002_roles"), ("rallies", "0002_roles")]

    # The secretariat runs the desk (override and cancel included); auditors read. Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
