from django.db import migrations

from common.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [MakeAppendOnly("points_entry"), MakeAppendOnly("points_lotuse")]
