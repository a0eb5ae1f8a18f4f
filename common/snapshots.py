"""Process-wide copies of the few rows every earning reads: a programme's campaigns, coupon templates and
rallies.

Loading fifty campaigns as model instances at every earning costs more than the earning itself. A
`RowsSnapshot` keeps what its loader returned per programme, and asks the database at each use, in one
small statement, whether the rows changed since: their count and their latest `updated_at` (and whatever
else its `version_sql` reads). A saved, added or deleted row changes that answer, in every process at
once, so an operator's pause takes effect at the next earning as before. Counters that the earning
itself moves with `update()` (a campaign's budget used) do not change it: whoever needs them reads them
under a lock.

The copies are shared by every request of the process: callers must not change them. Inside
`snapshots_checked(programme_id)` (the till's earn), every snapshot's question is asked once, in one
statement for all of them.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.utils import timezone

_ALL: list[RowsSnapshot] = []
# The versions read on entering snapshots_checked(), per thread: {(snapshot id, programme id): version}.
_checked = threading.local()


class RowsSnapshot:
    def __init__(self, *, version_sql: str, load: Callable[[int], Any]) -> None:
        """`version_sql` takes the programme id as every one of its %s parameters and returns one row of one
        column (a text, on PostgreSQL and SQLite alike: `CAST(... AS TEXT) || '/' || ...`)."""
        self.version_sql = version_sql
        self.parameters = version_sql.count("%s")
        self.load = load
        self._held: dict[int, tuple[tuple, Any]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, programme_id: int) -> Any:
        version = getattr(_checked, "versions", {}).get((id(self), programme_id))
        if version is None:
            with connection.cursor() as cursor:
                cursor.execute(self.version_sql, [programme_id] * self.parameters)
                version = cursor.fetchone()[0]
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


class RunningRows(RowsSnapshot):
    """A programme's active rows that run over a period (`starts_at` inclusive, `ends_at` exclusive):
    campaigns, coupon templates, rallies.

    The copy holds those that ended less than RECENT ago; a purchase older than that (an import, a very
    late offline upload) asks the database instead.
    """

    RECENT = datetime.timedelta(days=400)

    def __init__(self, *, model, active: Callable[[int], Any], arrange: Callable = list, version_also: str = ""):
        """`active(programme_id)`: the queryset of the programme's active rows; `arrange`: puts them in the
        order they are tried; `version_also`: SQL text (a `|| ...` tail) for what else changes them."""
        table = model._meta.db_table
        super().__init__(
            version_sql=(
                "SELECT CAST(COUNT(*) AS TEXT) || '/' || COALESCE(CAST(MAX(updated_at) AS TEXT), '')"
                f"{version_also} FROM {table} WHERE programme_id = %s"
            ),
            load=self._recent,
        )
        self.active = active
        self.arrange = arrange

    def _recent(self, programme_id: int) -> tuple[datetime.datetime, list]:
        since = timezone.now() - self.RECENT
        return since, self.arrange(self.active(programme_id).filter(ends_at__gt=since))

    def running(self, programme_id: int, at: datetime.datetime) -> list:
        """The rows running at `at`, in their order (one small query while they are unchanged)."""
        since, rows = self.get(programme_id)
        if at < since:
            rows = self.arrange(self.active(programme_id))
        return [row for row in rows if row.starts_at <= at < row.ends_at]


def snapshots_versions_sql(programme_column: str) -> str:
    """Every snapshot's question as columns of another statement that reads the programme's id in
    `programme_column` (the till asks them with its terminal's programmes): pass what they answered to
    `snapshots_checked`. Their texts take the programme id as their only parameter."""
    return ", ".join(f"({snapshot.version_sql.replace('%s', programme_column)})" for snapshot in _ALL)


def snapshots_count() -> int:
    return len(_ALL)


@contextmanager
def snapshots_checked(programme_id: int, versions: tuple | None = None) -> Iterator[None]:
    """Ask every snapshot's question about the programme in one statement (or take the answers another
    statement got, `snapshots_versions_sql`); inside the block, `get()` uses those answers."""
    if versions is None:
        sql = "SELECT " + ", ".join(f"({snapshot.version_sql})" for snapshot in _ALL)
        with connection.cursor() as cursor:
            cursor.execute(sql, [programme_id] * sum(snapshot.parameters for snapshot in _ALL))
            versions = cursor.fetchone()
    _checked.versions = {
        (id(snapshot), programme_id): version for snapshot, version in zip(_ALL, versions, strict=True)
    }
    try:
        yield
    finally:
        _checked.versions = {}
