from django.db import migrations

from common.append_only import MakeAppendOnly
from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("stores", "0002_merchantuser"),
        ("audit", "0003_roles"),
    ]

    # Lines of a frozen statement and issued PDFs never change; going back leaves the role groups.
    operations = [
        MakeAppendOnly("billing_statementline"),
        MakeAppendOnly("billing_statementfile"),
        migrations.RunPython(migrate_role_groups, migrations.RunPython.noop),
    ]
