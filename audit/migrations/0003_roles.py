from django.db import migrations

from loyalty.roles import migrate_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
        ("stores", "0001_initial"),
        ("members", "0001_initial"),
        ("points", "0003_expiry_schedule"),
        ("axes", "0010_accessattemptexpiration"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    # Going back leaves the groups: staff accounts may already belong to them.
    operations = [migrations.RunPython(migrate_role_groups, migrations.RunPython.noop)]
