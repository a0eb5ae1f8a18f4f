"""What an import would create (a dry run) or created, reconciled against the files: points by month of
expiry and by rank, as the rows add up, as the old system's control totals (totals.csv) state them, and as
the plan (dry run) or the ledger (after the import) has them. Kept as JSON on the batch for its page."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import connection

from legacy.checking import NO_RANK, Plan
from legacy.models import ImportBatch
from members.models import Card
from points.models import Entry, Lot


def _month(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def planned_figures(plan: Plan) -> dict:
    """What the import would create, from the plan itself (not from the running sums the reading kept)."""
    lots = plan.lots
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_member = defaultdict(int)
    for ordinal, points, member in zip(lots.expires, lots.points, lots.member, strict=True):
        figures = by_month[_month(datetime.date.fromordinal(ordinal))]
        figures[0] += 1
        figures[1] += points
        per_member[member] += points
    rank_of = {row.member: row.rank.name for row in plan.ranks}
    by_rank: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for position in range(len(plan.members)):
        figures = by_rank[rank_of.get(position, NO_RANK)]
        figures[0] += 1
        figures[1] += per_member.get(position, 0)
    return {"by_month": dict(by_month), "by_rank": dict(by_rank)}


# The ledger's side, read back inside the import's transaction: the lots its entries formed, by expiry date;
# and its members' balances (the accounts it opened) by the rank they now hold.
LOTS_BY_EXPIRY = """
    SELECT l.expires_on, COUNT(*), SUM(l.points) FROM points_lot l JOIN points_entry e ON e.id = l.entry_id
    WHERE e.operation = %s AND e.kind = %s GROUP BY l.expires_on
"""
BALANCES_BY_RANK = """
    SELECT r.name, COUNT(*), SUM(a.balance)
    FROM legacy_legacymember lm
    JOIN points_account a ON a.member_id = lm.member_id AND a.programme_id = %s
    LEFT JOIN ranks_memberrank mr ON mr.member_id = lm.member_id AND mr.programme_id = %s
    LEFT JOIN ranks_rank r ON r.id = mr.rank_id
    WHERE lm.batch_id = %s
    GROUP BY r.name
"""


def ledger_figures(batch: ImportBatch) -> dict:
    operation = Entry._meta.get_field("operation").get_db_prep_value(batch.operation, connection)
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_rank: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(LOTS_BY_EXPIRY, [operation, Entry.Kind.IMPORT])
        for day, count, points in cursor.fetchall():
            day = Lot._meta.get_field("expires_on").to_python(day)
            figures = by_month[_month(day)]
            figures[0] += count
            figures[1] += int(points)
        cursor.execute(BALANCES_BY_RANK, [batch.programme_id, batch.programme_id, batch.pk])
        for name, count, points in cursor.fetchall():
            by_rank[name or NO_RANK] = [count, int(points or 0)]
    return {"by_month": dict(by_month), "by_rank": by_rank}


def plan_report(plan: Plan, *, created: dict | None = None) -> dict:
    """The report of a dry run (`created` None: what the plan would create) or of an import (`created`: what
    the ledger holds). `reconciled` says whether every figure agrees."""
    made = created if created is not None else planned_figures(plan)
    controls = {(control.kind, control.key): control for control in plan.controls}

    def lines(kind: str, found: dict[str, list[int]], theirs: dict[str, list[int]]) -> list[dict]:
        rows = []
        for key in sorted(set(found) | set(theirs), key=lambda key: (kind == "rank" and key == NO_RANK, key)):
            count, points = found.get(key, [0, 0])
            made_count, made_points = theirs.get(key, [0, 0])
            control = controls.get((kind, key))
            rows.append(
                {
                    "key": key,
                    "count": count,
                    "points": points,
                    "made_count": made_count,
                    "made_points": made_points,
                    "control_points": control.points if control else None,
                    "control_count": control.count if control else None,
                    "matches": (count, points) == (made_count, made_points)
                    and (control is None or control.points == points)
                    and (control is None or control.count is None or control.count == count),
                }
            )
        return rows

    by_month = lines("expiry_month", plan.by_month, made["by_month"])
    by_rank = lines("rank", plan.by_rank, made["by_rank"])
    lot_count, points = len(plan.lots), plan.points
    made_lots = sum(row["made_count"] for row in by_month)
    made_points = sum(row["made_points"] for row in by_month)
    control = controls.get(("all", ""))
    total = {
        "count": lot_count,
        "points": points,
        "made_count": made_lots,
        "made_points": made_points,
        "control_points": control.points if control else None,
        "control_count": control.count if control else None,
        "matches": (lot_count, points) == (made_lots, made_points)
        and (control is None or control.points == points)
        and (control is None or control.count is None or control.count == lot_count),
    }
    registered = sum(1 for row in plan.members if row.registering)
    blocked = sum(1 for row in plan.cards if row.status == Card.Status.BLOCKED)
    return {
        "dry_run": created is None,
        "counts": {
            "members": len(plan.members),
            "registered": registered,
            "unregistered": len(plan.members) - registered,
            "cards": len(plan.cards),
            "blocked_cards": blocked,
            "accounts": len(plan.members),
            "lots": lot_count,
            "points": points,
            "ranks": len(plan.ranks),
        },
        "controls": bool(plan.controls),
        "by_month": by_month,
        "by_rank": by_rank,
        "total": total,
        "reconciled": total["matches"] and all(row["matches"] for row in by_month + by_rank),
    }


def rejection_report(problems) -> dict:
    return {"problems": problems.lines(), "problem_count": problems.count}
