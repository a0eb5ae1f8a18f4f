from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("qrpoints", "0001_initial"), ("rallies", "0002_roles")]

    # Operators run QR events and flyers; the secretariat too, and it issues the stores' visit codes; auditors
    # read. Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
