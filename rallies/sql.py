"""The rallies' statements at the till as fixed SQL, called only by `rallies.services` (see
`common/fixedsql.py`): every earning at a store of a running rally sends them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection

from common import fixedsql
from rallies.models import Stamp

STAMP_COLUMNS = fixedsql.writable_columns(Stamp)
LIVE_STAMPS = (
    "SELECT rally_id, store_id, day FROM rallies_stamp "
    "WHERE member_id = %s AND rally_id IN ({ids}) AND voided_at IS NULL"
)


def stamps_insert(stamps: Sequence[Stamp]) -> None:
    fixedsql.insert(Stamp, stamps, STAMP_COLUMNS)


def live_stamps(*, member_id: int, rally_ids: Sequence[int]) -> list[tuple[int, int, datetime.date]]:
    """The member's stamps in the rallies that no void took back: (rally, store, day)."""
    with connection.cursor() as cursor:
        cursor.execute(LIVE_STAMPS.format(ids=fixedsql.placeholders(rally_ids)), [member_id, *rally_ids])
        rows = cursor.fetchall()
    return [(rally_id, store_id, fixedsql.converted(Stamp, "day", day)) for rally_id, store_id, day in rows]
