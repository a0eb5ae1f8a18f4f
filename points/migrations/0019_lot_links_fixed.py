from django.db import migrations

from common.append_only import MakeColumnsFixed


class Migration(migrations.Migration):
    """A lot's remainder changes as it is spent; what it is (its size, account, entry, origin, kind) never does,
    and no lot goes: verify_ledger need not read a spent lot again once it has checked it."""

    dependencies = [("points", "0018_verification_checkpoint")]

    operations = [
        MakeColumnsFixed(
            "points_lot", ("points", "account_id", "entry_id", "origin_id", "purchased", "merchant_id")
        )
    ]
