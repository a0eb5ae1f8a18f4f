from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [("points", "0013_staff_programme")]

    # The secretariat says which programmes each staff member works for (points' models are all theirs).
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
