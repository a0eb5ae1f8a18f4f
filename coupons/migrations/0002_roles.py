from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("coupons", "0001_initial")]

    # Operators run coupon templates; the secretariat too; auditors read them. Going back leaves the groups.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
