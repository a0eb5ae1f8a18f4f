"""Every invariant of the ledger, checked over the whole database in a few set-based queries.

Each check is one SQL statement that returns the rows breaking it, so the
cost is a handful of scans of the entry, lot and lot-use tables, whatever
their size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

SAMPLE = 10


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str


CHECKS = [
    Check(
        "balance_equals_entries",
        "account balance minus debt equals the sum of its entries",
        """SELECT a.id, a.balance - a.debt, COALESCE(e.total, 0)
           FROM points_account a
           LEFT JOIN (SELECT account_id, SUM(points) AS total FROM points_entry GROUP BY account_id) e
             ON e.account_id = a.id
           WHERE a.balance - a.debt <> COALESCE(e.total, 0)""",
    ),
    Check(
        "entries_have_account_balance",
        "every account with entries has a cached balance row",
        """SELECT e.account_id, NULL, SUM(e.points) FROM points_entry e
           LEFT JOIN points_account a ON a.id = e.account_id
           WHERE a.id IS NULL GROUP BY e.account_id""",
    ),
    Check(
        "balance_equals_lots",
        "account balance equals the remaining points of its lots",
        """SELECT a.id, a.balance, COALESCE(l.remaining, 0)
           FROM points_account a
           LEFT JOIN (SELECT account_id, SUM(remaining) AS remaining FROM points_lot GROUP BY account_id) l
             ON l.account_id = a.id
           WHERE a.balance <> COALESCE(l.remaining, 0)""",
    ),
    Check(
        "lot_uses_match_lot",
        "what was used of each lot equals its size minus what remains",
        """SELECT l.id, l.points - l.remaining, COALESCE(u.used, 0)
           FROM points_lot l
           LEFT JOIN (SELECT lot_id, SUM(points) AS used FROM points_lotuse GROUP BY lot_id) u ON u.lot_id = l.id
           WHERE l.points - l.remaining <> COALESCE(u.used, 0)""",
    ),
    Check(
        "credits_form_lots",
        "every entry that adds points has lots of exactly that size, in its own account",
        """SELECT e.id, e.points, COALESCE(l.total, 0)
           FROM points_entry e
           LEFT JOIN (SELECT entry_id, SUM(points) AS total, MIN(account_id) AS lo, MAX(account_id) AS hi
                      FROM points_lot GROUP BY entry_id) l ON l.entry_id = e.id
           WHERE e.points > 0 AND (COALESCE(l.total, 0) <> e.points OR l.lo <> e.account_id OR l.hi <> e.account_id)""",
    ),
    Check(
        "debits_do_not_create_lots",
        "an entry that takes points away brings in no lot",
        """SELECT e.id, e.points, COUNT(l.id) FROM points_entry e JOIN points_lot l ON l.entry_id = e.id
           WHERE e.points < 0 GROUP BY e.id, e.points""",
    ),
    Check(
        "debits_use_at_most_their_points",
        "an entry that takes points away uses no more of the lots than it took, and only lots of its account",
        """SELECT e.id, -e.points, u.used
           FROM points_entry e
           JOIN (SELECT lu.entry_id, SUM(lu.points) AS used, MIN(l.account_id) AS lo, MAX(l.account_id) AS hi
                 FROM points_lotuse lu JOIN points_lot l ON l.id = lu.lot_id GROUP BY lu.entry_id) u
             ON u.entry_id = e.id
           WHERE e.points < 0 AND (u.used > -e.points OR u.lo <> e.account_id OR u.hi <> e.account_id)""",
    ),
    Check(
        "credits_use_only_own_lots",
        "an entry that adds points only uses its own new lots (to repay debt)",
        """SELECT e.id, e.points, COUNT(*)
           FROM points_entry e JOIN points_lotuse lu ON lu.entry_id = e.id JOIN points_lot l ON l.id = lu.lot_id
           WHERE e.points > 0 AND l.entry_id <> e.id GROUP BY e.id, e.points""",
    ),
    Check(
        "no_negative_amounts",
        "balances, debts and lot remainders are never negative, and an account holds points or debt, not both",
        """SELECT id, balance, debt FROM points_account WHERE balance < 0 OR debt < 0 OR (balance > 0 AND debt > 0)
           UNION ALL
           SELECT -id, points, remaining FROM points_lot WHERE remaining < 0 OR remaining > points OR points <= 0""",
    ),
    Check(
        "entry_signs",
        "earn and bonus entries add points; spend, expire, exchange and donation entries take them",
        """SELECT id, points, NULL FROM points_entry
           WHERE points = 0 OR (kind IN ('earn', 'bonus') AND points < 0)
              OR (kind IN ('spend', 'expire', 'exchange', 'donation') AND points > 0)""",
    ),
]


@dataclass(frozen=True)
class Problem:
    check: Check
    count: int
    sample: list[tuple]

    def __str__(self) -> str:
        rows = "; ".join(f"id {row[0]}: {row[1]} vs {row[2]}" for row in self.sample)
        return f"{self.check.name}: {self.count} row(s) break '{self.check.description}' ({rows})"


def ledger_problems(checks: list[Check] = CHECKS) -> list[Problem]:
    problems = []
    with connection.cursor() as cursor:
        for check in checks:
            cursor.execute(check.sql)
            rows = cursor.fetchall()
            if rows:
                problems.append(Problem(check, len(rows), rows[:SAMPLE]))
    return problems
