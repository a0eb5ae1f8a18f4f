"""The till's fixed SQL, called only by `till.services`: the terminal found by its secret, with its store,
the store's active programmes and whether each programme's running campaigns, coupon templates and rallies
changed (common/snapshots.py), in one statement on every request (see `common/fixedsql.py`)."""

from __future__ import annotations

import functools

from django.db import connection

from common import fixedsql
from common.snapshots import snapshots_count, snapshots_versions_sql
from points.models import Participation, Programme
from stores.models import Store, Terminal


def _attnames(model) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


# What the till reads of each (the rest is loaded, by the ORM, if ever asked for).
TERMINAL_FIELDS = ("id", "store_id", "code", "status", "secret_hash", "last_seen_at")
STORE_FIELDS = ("id", "merchant_id", "code", "name", "category", "status", "earn_rate_bp")
PARTICIPATION_FIELDS = _attnames(Participation)
PROGRAMME_FIELDS = _attnames(Programme)


@functools.cache
def terminal_by_secret_sql() -> str:
    """Made at first use, once every app has registered its snapshot. A store that takes part in no active
    programme still authenticates (the ledger refuses its writes)."""
    return (
        f"SELECT {fixedsql.select_list('t', TERMINAL_FIELDS)}, {fixedsql.select_list('s', STORE_FIELDS)}, "
        f"{fixedsql.select_list('p', PARTICIPATION_FIELDS)}, {fixedsql.select_list('g', PROGRAMME_FIELDS)}, "
        f"{snapshots_versions_sql('p.programme_id')} "
        "FROM stores_terminal t JOIN stores_store s ON s.id = t.store_id "
        "LEFT JOIN points_participation p ON p.store_id = s.id "
        "AND p.programme_id IN (SELECT id FROM points_programme WHERE is_active) "
        "LEFT JOIN points_programme g ON g.id = p.programme_id "
        "WHERE t.secret_hash = %s AND t.status = %s ORDER BY p.is_primary DESC, p.joined_on, p.programme_id"
    )


def terminal_by_secret(secret_hash: str) -> tuple[Terminal, list[Participation], dict[int, tuple]] | None:
    """The terminal with its store, the store's participations, and per programme the snapshots' versions."""
    with connection.cursor() as cursor:
        cursor.execute(terminal_by_secret_sql(), [secret_hash, Terminal.Status.ACTIVE])
        rows = cursor.fetchall()
    if not rows:
        return None
    sizes = (len(TERMINAL_FIELDS), len(STORE_FIELDS), len(PARTICIPATION_FIELDS), len(PROGRAMME_FIELDS))
    cut = _cuts(*sizes, snapshots_count())
    first = rows[0]
    terminal = fixedsql.instance(Terminal, TERMINAL_FIELDS, first[cut[0] : cut[1]])
    terminal.store = fixedsql.instance(Store, STORE_FIELDS, first[cut[1] : cut[2]])
    participations, versions = [], {}
    for row in rows:
        if row[cut[2]] is None:
            continue
        participation = fixedsql.instance(Participation, PARTICIPATION_FIELDS, row[cut[2] : cut[3]])
        participation.programme = fixedsql.instance(Programme, PROGRAMME_FIELDS, row[cut[3] : cut[4]])
        participation.store = terminal.store
        participations.append(participation)
        versions[participation.programme_id] = tuple(row[cut[4] : cut[5]])
    return terminal, participations, versions


def _cuts(*sizes: int) -> list[int]:
    cuts = [0]
    for size in sizes:
        cuts.append(cuts[-1] + size)
    return cuts
