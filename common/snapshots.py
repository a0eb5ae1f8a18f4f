"""Process-wide copies of the few rows every earning reads: a programme's campaigns, coupon templates and
rallies.

Loading fifty campaigns as model instances at every earning costs more than the earning itself. A
`RowsSnapshot` keeps what its loader returned per programme, and asks the database at each use, in one
small statement, whether the rows changed since: their count and their latest `updated_at` (and whatever
else its `version_sql` reads). A saved, added or deleted row changes that answer, in every process at
once, so an operator's pause takes effect at the next earning as before. Counters that the earning
itself moves with `update()` (a campaign's budget used) do not change it: whoever needs them reads them
under a lock.

The copies are shared by every request of the process: callers must not change them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

_ALL: list[RowsSnapshot] = []


class RowsSnapshot:
    def __init__(self, *, version_sql: str, load: Callable[[int], Any]) -> None:
        """`version_sql` takes the programme id as every one of its %s parameters and returns one row."""
        self.version_sql = version_sql
        self.parameters = version_sql.count("%s")
        self.load = load
        self._held: dict[int, tuple[tuple, Any]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, programme_id: int) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(self.version_sql, [programme_id] * self.parameters)
            version = tuple(cursor.fetchone())
        held = self._held.get(programme_id)
        if held is not None and held[0] == version:
            return held[1]
        # Loaded after the version was read: a change in between is loaded now and seen again next time.
        value = self.load(programme_id)
        with self._lock:
            self._held[programme_id] = (version, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


def snapshots_clear() -> None:
    """Forget every copy (tests roll back rows that a copy may hold)."""
    for snapshot in _ALL:
        snapshot.clear()
