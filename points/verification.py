"""Every invariant of the ledger, checked over the whole database, or over what changed since a checkpoint.

The standard verification is two set-based queries, one pass over each of
the entry, lot and lot-use tables: per account (balance − debt = Σ entries,
balance = Σ lot remainders, Σ lot sizes = Σ points brought in by entries)
and per lot (size − remainder = Σ its uses). What check constraints already
refuse (negative balances or remainders, entries of the wrong sign) is not
checked again.
Opening balances brought over from an old system are checked apart (one lot each; a rollback takes back
exactly that lot), through the entries' kind index.
The deep verification adds the per-entry links (each crediting entry forms
lots of exactly its size in its own account; each debiting entry uses no
more than it took, only from its own account's lots); it joins every lot and
lot use to its entry, so it costs about twice as much.

From a checkpoint (the Checkpoint row: every rule held for the entries, lots and lot uses up to its ids, and
CheckpointAccount keeps each account's Σ entries, Σ points brought in and Σ lot sizes over them), the same
rules read:
- every account row with its checkpoint figures (one row each, however long its history), the entries and
  lots after the checkpoint's ids, and the open lots (remainder > 0): balance − debt = checkpoint Σ + Σ later
  entries; balance = Σ open remainders; checkpoint sizes + later lots = checkpoint credits + later credits;
- per lot, the lots still open, those formed after the checkpoint and those a lot use after it names, each with
  all its uses;
- deep, the entries after the deep cut-off and the older ones a later lot or lot use names, the lots after it;
- the opening balances, always all of them (through the kind index).
What it does not read again, and why that cannot change unseen: entries and lot uses up to the checkpoint
(append-only: PostgreSQL's triggers refuse UPDATE and DELETE), and spent lots (remainder 0) up to it that no
later use names (PostgreSQL refuses to delete a lot or change its size, account, entry, origin or kind; giving
one a remainder makes it open, and so read). Not seen until `--full`: a row written by hand with an unused id
below the checkpoint's (ids come from sequences, so no service does that), and anything on SQLite, where no
trigger guards the tables. A run costs the accounts, the open lots and what came since, not the history.
The checkpoint's cut-off is the highest entry recorded before the start of the day before the run (Tokyo time),
with the highest lot and lot use of the entries up to it: rows numbered below those committed long before.

Apps above points that keep figures derived from the ledger (the analytics summaries) reconcile them
here too, without points knowing them: each registers a reconciliation (`register_reconciliation`) when
it is ready, and `manage.py verify_ledger` runs them after the ledger's own rules
(`reconciliation_problems`). They are apart from `ledger_problems`, whose cost is the ledger's alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from points.models import Checkpoint

SAMPLE = 10


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    broken: Callable[[dict], bool] = lambda row: True


@dataclass(frozen=True)
class Query:
    """One statement returning the rows that break at least one of its rules."""

    sql: str
    rules: tuple[Rule, ...]
    deep: bool = False
    # The same rules over what came after a checkpoint (named parameters: entry, lot, lotuse); None: the query
    # always reads its whole range.
    since_sql: str | None = None


def _n(value) -> int:
    return int(value or 0)


ACCOUNTS = Query(
    sql="""
        WITH e AS (
            SELECT account_id, SUM(points) AS total, SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS credited
            FROM points_entry GROUP BY account_id),
        l AS (
            SELECT account_id, SUM(remaining) AS remaining, SUM(points) AS size
            FROM points_lot GROUP BY account_id)
        SELECT COALESCE(a.id, e.account_id) AS id, a.id AS account, a.balance, a.debt,
               e.total, e.credited, l.remaining, l.size
        FROM points_account a
        FULL JOIN e ON e.account_id = a.id
        LEFT JOIN l ON l.account_id = COALESCE(a.id, e.account_id)
        WHERE a.id IS NULL OR a.balance - a.debt <> COALESCE(e.total, 0) OR a.balance <> COALESCE(l.remaining, 0)
           OR COALESCE(l.size, 0) <> COALESCE(e.credited, 0)
    """,
    since_sql="""
        WITH e AS (
            SELECT account_id, SUM(points) AS total, SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS credited
            FROM points_entry WHERE id > %(entry)s GROUP BY account_id),
        n AS (SELECT account_id, SUM(points) AS size FROM points_lot WHERE id > %(lot)s GROUP BY account_id),
        o AS (SELECT account_id, SUM(remaining) AS remaining FROM points_lot WHERE remaining > 0 GROUP BY account_id)
        SELECT id, account, balance, debt, total, credited, remaining, size FROM (
            SELECT COALESCE(a.id, e.account_id) AS id, a.id AS account, a.balance, a.debt,
                   COALESCE(c.total, 0) + COALESCE(e.total, 0) AS total,
                   COALESCE(c.credited, 0) + COALESCE(e.credited, 0) AS credited,
                   o.remaining, COALESCE(c.size, 0) + COALESCE(n.size, 0) AS size
            FROM points_account a
            FULL JOIN e ON e.account_id = a.id
            LEFT JOIN points_checkpointaccount c ON c.account_id = COALESCE(a.id, e.account_id)
            LEFT JOIN n ON n.account_id = COALESCE(a.id, e.account_id)
            LEFT JOIN o ON o.account_id = COALESCE(a.id, e.account_id)) x
        WHERE account IS NULL OR balance - debt <> total OR balance <> COALESCE(remaining, 0) OR size <> credited
    """,
    rules=(
        Rule("account_exists", "every account with entries has a balance row", lambda r: r["account"] is None),
        Rule(
            "balance_equals_entries",
            "account balance minus debt equals the sum of its entries",
            lambda r: _n(r["balance"]) - _n(r["debt"]) != _n(r["total"]),
        ),
        Rule(
            "balance_equals_lots",
            "account balance equals the remaining points of its lots",
            lambda r: _n(r["balance"]) != _n(r["remaining"]),
        ),
        Rule(
            "credits_form_lots",
            "the points brought in by an account's entries equal the size of its lots",
            lambda r: _n(r["size"]) != _n(r["credited"]),
        ),
    ),
)

LOTS = Query(
    sql="""
        SELECT l.id, l.points AS size, l.remaining, COALESCE(u.used, 0) AS used
        FROM points_lot l
        LEFT JOIN (SELECT lot_id, SUM(points) AS used FROM points_lotuse GROUP BY lot_id) u ON u.lot_id = l.id
        WHERE l.points - l.remaining <> COALESCE(u.used, 0)
    """,
    # The lots still open, those formed after the checkpoint and those used since, each with all its uses.
    since_sql="""
        SELECT l.id, l.points AS size, l.remaining, COALESCE(SUM(u.points), 0) AS used
        FROM points_lot l
        LEFT JOIN points_lotuse u ON u.lot_id = l.id
        WHERE l.remaining > 0 OR l.id > %(lot)s OR l.id IN (SELECT lot_id FROM points_lotuse WHERE id > %(lotuse)s)
        GROUP BY l.id, l.points, l.remaining
        HAVING l.points - l.remaining <> COALESCE(SUM(u.points), 0)
    """,
    rules=(
        Rule(
            "lot_uses_match_lot",
            "what was used of each lot equals its size minus what remains",
            lambda r: r["size"] - r["remaining"] != _n(r["used"]),
        ),
    ),
)

CREDIT_LINKS = Query(
    deep=True,
    sql="""
        SELECT e.id, e.points, COALESCE(l.size, 0) AS size, l.lo, l.hi, e.account_id
        FROM points_entry e
        LEFT JOIN (SELECT entry_id, SUM(points) AS size, MIN(account_id) AS lo, MAX(account_id) AS hi
                   FROM points_lot GROUP BY entry_id) l ON l.entry_id = e.id
        WHERE (e.points > 0 AND (COALESCE(l.size, 0) <> e.points OR l.lo <> e.account_id OR l.hi <> e.account_id))
           OR (e.points < 0 AND l.entry_id IS NOT NULL)
    """,
    # The entries after the checkpoint and those a lot formed since names.
    since_sql="""
        WITH x AS (SELECT id FROM points_entry WHERE id > %(entry)s
                   UNION SELECT entry_id FROM points_lot WHERE id > %(lot)s)
        SELECT e.id, e.points, COALESCE(l.size, 0) AS size, l.lo, l.hi, e.account_id
        FROM points_entry e
        JOIN x ON x.id = e.id
        LEFT JOIN (SELECT entry_id, SUM(points) AS size, MIN(account_id) AS lo, MAX(account_id) AS hi
                   FROM points_lot WHERE entry_id IN (SELECT id FROM x) GROUP BY entry_id) l ON l.entry_id = e.id
        WHERE (e.points > 0 AND (COALESCE(l.size, 0) <> e.points OR l.lo <> e.account_id OR l.hi <> e.account_id))
           OR (e.points < 0 AND l.entry_id IS NOT NULL)
    """,
    rules=(
        Rule(
            "entry_forms_its_lots",
            "every entry that adds points forms lots of exactly that size in its own account, "
            "and no other entry forms lots",
        ),
    ),
)

USE_LINKS = Query(
    deep=True,
    sql="""
        SELECT e.id, e.points, u.used, u.lo, u.hi, u.foreign_lots
        FROM points_entry e
        JOIN (SELECT lu.entry_id, SUM(lu.points) AS used, MIN(l.account_id) AS lo, MAX(l.account_id) AS hi,
                     SUM(CASE WHEN l.entry_id <> lu.entry_id THEN 1 ELSE 0 END) AS foreign_lots
              FROM points_lotuse lu JOIN points_lot l ON l.id = lu.lot_id GROUP BY lu.entry_id) u ON u.entry_id = e.id
        WHERE u.lo <> e.account_id OR u.hi <> e.account_id
           OR (e.points < 0 AND u.used > -e.points) OR (e.points > 0 AND u.foreign_lots > 0)
    """,
    # The entries after the checkpoint and those a lot use since names.
    since_sql="""
        WITH x AS (SELECT id FROM points_entry WHERE id > %(entry)s
                   UNION SELECT entry_id FROM points_lotuse WHERE id > %(lotuse)s)
        SELECT e.id, e.points, u.used, u.lo, u.hi, u.foreign_lots
        FROM points_entry e
        JOIN x ON x.id = e.id
        JOIN (SELECT lu.entry_id, SUM(lu.points) AS used, MIN(l.account_id) AS lo, MAX(l.account_id) AS hi,
                     SUM(CASE WHEN l.entry_id <> lu.entry_id THEN 1 ELSE 0 END) AS foreign_lots
              FROM points_lotuse lu JOIN points_lot l ON l.id = lu.lot_id
              WHERE lu.entry_id IN (SELECT id FROM x) GROUP BY lu.entry_id) u ON u.entry_id = e.id
        WHERE u.lo <> e.account_id OR u.hi <> e.account_id
           OR (e.points < 0 AND u.used > -e.points) OR (e.points > 0 AND u.foreign_lots > 0)
    """,
    rules=(
        Rule(
            "entry_uses_own_lots",
            "an entry uses only its own account's lots; a taking entry uses no more than it took, "
            "and an adding entry only its own new lots (to repay debt)",
        ),
    ),
)

# A lot's kind against its entry's, or its origin's for a copy.
_LOT_KIND_READING = """
        SELECT l.id, e.kind, l.purchased, l.merchant_id, o.purchased AS origin_purchased,
               o.merchant_id AS origin_merchant
        FROM points_lot l
        JOIN points_entry e ON e.id = l.entry_id
        LEFT JOIN points_lot o ON o.id = l.origin_id
"""
_LOT_KIND_BROKEN = """((l.origin_id IS NULL AND ((l.purchased AND e.kind <> 'purchase')
                                         OR (l.merchant_id IS NOT NULL AND e.kind <> 'bonus')))
            OR (l.origin_id IS NOT NULL AND (l.purchased <> o.purchased
                                             OR COALESCE(l.merchant_id, 0) <> COALESCE(o.merchant_id, 0))))"""

LOT_KINDS = Query(
    deep=True,
    # Two narrow readings instead of every lot joined to its entry: the lots that carry a mark or were copied
    # (a small share), and the lots of points purchases (through the entries' kind index).
    sql=f"""{_LOT_KIND_READING}
        WHERE (l.purchased OR l.merchant_id IS NOT NULL OR l.origin_id IS NOT NULL)
          AND {_LOT_KIND_BROKEN}
        UNION ALL
        SELECT l.id, e.kind, l.purchased, l.merchant_id, NULL, NULL
        FROM points_entry e JOIN points_lot l ON l.entry_id = e.id
        WHERE e.kind = 'purchase' AND NOT l.purchased
    """,
    # The lots formed after the checkpoint.
    since_sql=f"""{_LOT_KIND_READING}
        WHERE l.id > %(lot)s AND ({_LOT_KIND_BROKEN} OR (e.kind = 'purchase' AND NOT l.purchased))
    """,
    rules=(
        Rule(
            "lot_kind_from_its_entry",
            "a purchased lot comes from a points purchase and a company-only lot from a bonus, or each is a "
            "copy of one that keeps its kind; a purchase forms only purchased lots",
        ),
    ),
)

# Opening balances brought over from an old system (kind `import`): each forms exactly one lot of its own size
# and store in its own account, and a rollback's reversing entry takes back exactly that lot, once. Read
# through the kind's index, so it costs nothing where nothing was imported.
IMPORTS = Query(
    sql="""
        SELECT i.id, i.points, i.account_id, i.reverses_id, COALESCE(l.n, 0) AS lots, l.size, l.lo, l.hi,
               l.other_store, o.kind AS original_kind, o.points AS original_points, o.account_id AS original_account,
               COALESCE(u.used, 0) AS used, u.lot_entry, u.lot_entry_hi, COALESCE(r.n, 0) AS reversals
        FROM points_entry i
        LEFT JOIN (
            SELECT l.entry_id, COUNT(*) AS n, SUM(l.points) AS size, MIN(l.account_id) AS lo, MAX(l.account_id) AS hi,
                   SUM(CASE WHEN l.store_id = e.store_id OR (l.store_id IS NULL AND e.store_id IS NULL)
                            THEN 0 ELSE 1 END) AS other_store
            FROM points_lot l JOIN points_entry e ON e.id = l.entry_id
            WHERE e.kind = 'import' GROUP BY l.entry_id) l ON l.entry_id = i.id
        LEFT JOIN points_entry o ON o.id = i.reverses_id
        LEFT JOIN (
            SELECT lu.entry_id, SUM(lu.points) AS used, MIN(l.entry_id) AS lot_entry, MAX(l.entry_id) AS lot_entry_hi
            FROM points_lotuse lu JOIN points_entry e ON e.id = lu.entry_id JOIN points_lot l ON l.id = lu.lot_id
            WHERE e.kind = 'import' AND e.points < 0 GROUP BY lu.entry_id) u ON u.entry_id = i.id
        LEFT JOIN (
            SELECT reverses_id, COUNT(*) AS n FROM points_entry WHERE kind = 'import' AND points < 0
            GROUP BY reverses_id) r ON r.reverses_id = i.id
        WHERE i.kind = 'import'
          AND ((i.points > 0 AND (COALESCE(l.n, 0) <> 1 OR l.size <> i.points OR l.lo <> i.account_id
                                  OR l.hi <> i.account_id OR l.other_store > 0 OR COALESCE(r.n, 0) > 1))
            OR (i.points < 0 AND (o.kind IS NULL OR o.kind <> 'import' OR o.points <> -i.points
                                  OR o.account_id <> i.account_id OR COALESCE(u.used, 0) <> -i.points
                                  OR u.lot_entry <> i.reverses_id OR u.lot_entry_hi <> i.reverses_id)))
    """,
    rules=(
        Rule(
            "import_forms_one_lot",
            "an opening balance brought over from an old system forms exactly one lot, of its size and issuing "
            "store, in its own account",
            lambda r: (
                r["points"] > 0
                and (
                    r["lots"] != 1
                    or _n(r["size"]) != r["points"]
                    or r["lo"] != r["account_id"]
                    or r["hi"] != r["account_id"]
                    or _n(r["other_store"]) > 0
                )
            ),
        ),
        Rule(
            "import_reversed_once",
            "an opening balance is rolled back at most once",
            lambda r: r["points"] > 0 and r["reversals"] > 1,
        ),
        Rule(
            "import_rollback_takes_its_lot",
            "the rollback of an opening balance reverses an opening balance of its own account and size, and "
            "takes back exactly that entry's lot",
            lambda r: (
                r["points"] < 0
                and (
                    r["original_kind"] != "import"
                    or _n(r["original_points"]) != -r["points"]
                    or r["original_account"] != r["account_id"]
                    or _n(r["used"]) != -r["points"]
                    or r["lot_entry"] != r["reverses_id"]
                    or r["lot_entry_hi"] != r["reverses_id"]
                )
            ),
        ),
    ),
)

QUERIES = (ACCOUNTS, LOTS, CREDIT_LINKS, USE_LINKS, LOT_KINDS, IMPORTS)


@dataclass(frozen=True)
class Problem:
    rule: Rule
    count: int
    sample: list[dict]

    def __str__(self) -> str:
        ids = ", ".join(str(row["id"]) for row in self.sample)
        return f"{self.rule.name}: {self.count} row(s) break '{self.rule.description}' (ids {ids})"


def rule_count(*, deep: bool = False) -> int:
    return sum(len(query.rules) for query in QUERIES if deep or not query.deep)


def ledger_problems(*, deep: bool = False, since: Checkpoint | None = None) -> list[Problem]:
    """The broken rules, over the whole ledger, or over what came after `since` (see the module's docstring)."""
    problems = []
    with connection.cursor() as cursor:
        for query in QUERIES:
            if query.deep and not deep:
                continue
            through = verified_through(since, deep=query.deep) if query.since_sql else None
            if through is None:
                cursor.execute(query.sql)
            else:
                cursor.execute(query.since_sql, through._asdict())
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
            for rule in query.rules:
                broken = [row for row in rows if rule.broken(row)]
                if broken:
                    problems.append(Problem(rule, len(broken), broken[:SAMPLE]))
    return problems


# --- how far the ledger has been verified ------------------------------------------------------------


class Through(NamedTuple):
    """The highest entry, lot and lot-use ids of a verified range."""

    entry: int
    lot: int
    lotuse: int


def verified_through(checkpoint: Checkpoint | None, *, deep: bool) -> Through | None:
    if checkpoint is None:
        return None
    if deep:
        if checkpoint.deep_entry_through is None:
            return None
        return Through(checkpoint.deep_entry_through, checkpoint.deep_lot_through, checkpoint.deep_lotuse_through)
    return Through(checkpoint.entry_through, checkpoint.lot_through, checkpoint.lotuse_through)


def final_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """The moment before which the ledger's rows are taken as final: the start of the day before `now`, Tokyo
    time. A transaction writing the ledger lasts seconds, so no row numbered below one recorded before it can
    still be waiting to commit."""
    today = timezone.localtime(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=1)


def final_through(before: datetime.datetime, after: Through | None = None) -> Through:
    """The ids up to which the rows are final: the highest entry recorded before `before`, and the highest lot
    and lot use of an entry up to it (no row numbered below one of these can still be waiting to commit). Only
    the rows after `after` (the last checkpoint) are searched, through the primary keys: what the run reads
    anyway. Never below `after`."""
    after = after or Through(0, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MAX(id) FROM points_entry WHERE id > %s AND recorded_at < %s",
            # As the ORM passes a moment: SQLite compares the stored UTC text.
            [after.entry, connection.ops.adapt_datetimefield_value(before)],
        )
        entry = cursor.fetchone()[0] or after.entry
        ids = []
        for table, since in (("points_lot", after.lot), ("points_lotuse", after.lotuse)):
            cursor.execute(f"SELECT MAX(id) FROM {table} WHERE id > %s AND entry_id <= %s", [since, entry])
            ids.append(cursor.fetchone()[0] or since)
    return Through(entry, *ids)


def checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("pk").first()


# --- figures derived from the ledger, kept by the apps above -----------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    """A check an app registers: `problems(deep=..., full=...)` returns the Problems it finds (`full`: all it
    keeps, not only what came since its last passing reading), and its notes (what it compared, what it could
    not yet) go to `notes`."""

    name: str
    problems: Callable[..., tuple[list[Problem], list[str]]]


_reconciliations: dict[str, Reconciliation] = {}


def register_reconciliation(name: str, problems: Callable[..., tuple[list[Problem], list[str]]]) -> None:
    """Have verify_ledger also run `problems(deep=..., full=...)`, which returns (problems, notes)."""
    _reconciliations[name] = Reconciliation(name, problems)


def reconciliation_problems(*, deep: bool = False, full: bool = False) -> tuple[list[Problem], list[str]]:
    """What the registered reconciliations find, with their notes."""
    problems, notes = [], []
    for reconciliation in _reconciliations.values():
        found, said = reconciliation.problems(deep=deep, full=full)
        problems += found
        notes += [f"{reconciliation.name}: {note}" for note in said]
    return problems, notes
