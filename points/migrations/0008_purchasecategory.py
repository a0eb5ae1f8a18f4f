"""A purchase's item categories belong to the ledger's purchase: the model moves from coupons to points, its
rows kept (the table is renamed, nothing is copied)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0007_alter_programme_name"),
        ("coupons", "0004_coupon_withdrawn"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PurchaseCategory",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("category", models.CharField(max_length=40, verbose_name="item category")),
                        ("occurred_at", models.DateTimeField(verbose_name="occurred at")),
                        (
                            "account",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="points.account",
                                verbose_name="account",
                            ),
                        ),
                        (
                            "earn",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="points.entry",
                                verbose_name="earning",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "item category of a purchase",
                        "verbose_name_plural": "item categories of purchases",
                        "db_table": "coupons_purchasecategory",
                        "indexes": [
                            models.Index(fields=["account", "category", "occurred_at"], name="purchasecategory_history")
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("earn", "category"), name="purchasecategory_once")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="purchasecategory", table=None),
    ]
