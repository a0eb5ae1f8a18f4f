"""Heavy reads on the read replica, when one is configured (DATABASE_REPLICA_URL).

A view opts in with `reading_from_replica()` (a context manager and a decorator): the analytics reports, the
portal's figures, the admin's exports. Inside it, `ReplicaRouter` sends reads to the "replica" alias unless
one of these keeps them on the primary:

- the primary has a transaction open (whatever runs in it must see its own writes, and a lock taken there
  means the read is part of a write);
- something was written since the context was entered (a read after a write must see the write);
- the replica is further behind than DATABASE_REPLICA_MAX_LAG_SECONDS, or does not answer. Its lag is asked
  at most every DATABASE_REPLICA_CHECK_SECONDS per process, and the answer cached.

Opting in per view rather than per app or model: the ledger, the members and the stores are read by the till
and by the reports alike, and only the caller knows whether it must see a write just made. Without the
context every read stays on the primary, so a view nobody has looked at cannot read stale data.
Writes always go to the primary.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from contextlib import ContextDecorator
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
UNREACHABLE = float("inf")

# Lag in seconds of a PostgreSQL standby: none when it has replayed all it received (an idle primary sends
# nothing, and the last replayed transaction then only looks old), else the age of the last one replayed.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 'Infinity'::float8)
END
"""


@dataclass
class _Reading:
    wrote: bool = False


_reading: contextvars.ContextVar[_Reading | None] = contextvars.ContextVar("reading_from_replica", default=None)


class reading_from_replica(ContextDecorator):  # noqa: N801 (reads as a statement: `with reading_from_replica():`)
    """Reads inside may be served by the replica (see the module's docstring for when they are not)."""

    def _recreate_cm(self):
        # As a decorator, one context per call: calls in other threads (or nested) keep their own.
        return type(self)()

    def __enter__(self):
        self._token = _reading.set(_Reading())
        return self

    def __exit__(self, *exc):
        _reading.reset(self._token)
        return False


# --- the replica's lag, asked at most every few seconds -------------------------------------------------


@dataclass
class _Lag:
    seconds: float = 0.0
    asked_at: float = -UNREACHABLE


_lag = _Lag()
_lag_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES and settings.DATABASE_REPLICA_READS


def replica_lag() -> float:
    """The replica's lag in seconds (infinite when it does not answer), at most DATABASE_REPLICA_CHECK_SECONDS old."""
    now = time.monotonic()
    with _lag_lock:
        if now - _lag.asked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
            return _lag.seconds
        _lag.asked_at = now  # the other threads use the last answer meanwhile
    seconds = _ask_lag()
    with _lag_lock:
        _lag.seconds = seconds
    return seconds


def replica_lag_forget() -> None:
    """Ask again at the next read (tests; after a failover)."""
    with _lag_lock:
        _lag.seconds, _lag.asked_at = 0.0, -UNREACHABLE


def _ask_lag() -> float:
    connection = connections[REPLICA]
    if connection.vendor != "postgresql":
        return 0.0  # a test mirror of SQLite is the same file
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except DatabaseError as error:
        log.warning("read replica unreachable, reading the primary: %s", error)
        connection.close()
        return UNREACHABLE


def replica_usable() -> bool:
    return replica_lag() <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS


# --- the router ----------------------------------------------------------------------------------------------


def read_alias() -> str:
    """Where a read made now goes."""
    reading = _reading.get()
    if reading is None or reading.wrote or not replica_configured():
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA if replica_usable() else PRIMARY


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        reading = _reading.get()
        if reading is not None:
            reading.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: an object read from one may refer to one from the other.
        return {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
