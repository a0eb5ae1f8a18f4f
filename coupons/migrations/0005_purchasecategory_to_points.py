"""The item categories of a purchase now belong to points (points/migrations/0008): only the model's state
leaves coupons; the rows stay, in the renamed table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0004_coupon_withdrawn"),
        ("points", "0008_purchasecategory"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PurchaseCategory")],
            database_operations=[],
        ),
    ]
