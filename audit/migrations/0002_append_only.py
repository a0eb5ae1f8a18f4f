from django.db import migrations

from common.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [MakeAppendOnly("audit_auditevent")]
