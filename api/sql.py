"""The terminal API's fixed SQL, called only by `api.pipeline`: the idempotency record of a write, claimed
inside the request's own transaction (see `common/fixedsql.py` for why these are fixed).

The claim is one `INSERT ... ON CONFLICT DO NOTHING`. A second request with the same key, arriving while
the first is still inside its transaction, waits in that statement for the first to end: then it finds
the first's answer (committed with its entries), or, if the first died, claims the key itself. On
PostgreSQL the statement also sets the transaction's lock timeout, so that this wait (and any later wait
for a card or an account) ends after TERMINAL_API_LOCK_TIMEOUT_MS without a round trip of its own.
"""

from __future__ import annotations

import datetime

from django.db import connection

from api.models import IdempotencyRecord
from common import fixedsql

CLAIM_COLUMNS = ("terminal_id", "key", "request_hash", "state", "started_at")
RECORD_FIELDS = ("id", "terminal_id", "key", "request_hash", "state", "status_code", "body", "started_at")

CLAIM_POSTGRESQL = (
    f"INSERT INTO api_idempotencyrecord ({', '.join(CLAIM_COLUMNS)}) "
    "SELECT CAST(%s AS bigint), CAST(%s AS varchar), CAST(%s AS varchar), CAST(%s AS varchar), "
    "CAST(%s AS timestamptz) WHERE set_config('lock_timeout', %s, true) IS NOT NULL "
    "ON CONFLICT (terminal_id, key) DO NOTHING RETURNING id"
)
CLAIM_SQLITE = (
    f"INSERT INTO api_idempotencyrecord ({', '.join(CLAIM_COLUMNS)}) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (terminal_id, key) DO NOTHING RETURNING id"
)
RECORD = f"SELECT {', '.join(RECORD_FIELDS)} FROM api_idempotencyrecord WHERE terminal_id = %s AND key = %s"
DONE = "UPDATE api_idempotencyrecord SET state = %s, status_code = %s, body = %s, completed_at = %s WHERE id = %s"
TAKE_OVER = "UPDATE api_idempotencyrecord SET started_at = %s WHERE id = %s AND state = %s AND started_at = %s"


def _moment(value: datetime.datetime):
    return IdempotencyRecord._meta.get_field("started_at").get_db_prep_save(value, connection)


def claim(*, terminal_id: int, key: str, request_hash: str, now: datetime.datetime, lock_timeout_ms: int) -> int | None:
    """The new record's id, or None when the key has a record already (committed: waited for if need be)."""
    values = [terminal_id, key, request_hash, IdempotencyRecord.State.RUNNING, _moment(now)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(CLAIM_POSTGRESQL, [*values, f"{int(lock_timeout_ms)}ms"])
        else:
            cursor.execute(CLAIM_SQLITE, values)
        row = cursor.fetchone()
    return row[0] if row else None


def record(*, terminal_id: int, key: str) -> IdempotencyRecord | None:
    with connection.cursor() as cursor:
        cursor.execute(RECORD, [terminal_id, key])
        row = cursor.fetchone()
    return None if row is None else fixedsql.instance(IdempotencyRecord, RECORD_FIELDS, row)


def done(*, record_id: int, status_code: int, body: bytes, now: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(DONE, [IdempotencyRecord.State.DONE, status_code, body, _moment(now), record_id])


def take_over(*, record: IdempotencyRecord, now: datetime.datetime) -> bool:
    """Restart a record whose request died long ago; False when another request took it first."""
    with connection.cursor() as cursor:
        cursor.execute(
            TAKE_OVER, [_moment(now), record.pk, IdempotencyRecord.State.RUNNING, _moment(record.started_at)]
        )
        return cursor.rowcount == 1
