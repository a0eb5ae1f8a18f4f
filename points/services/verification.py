"""The ledger's verification and its checkpoint (the rules themselves: points/verification.py).

A passing verification moves the checkpoint to the rows that are final by then (`final_through`): a full one
rewrites the per-account figures from the whole ledger; one from the checkpoint adds to them what came after
it, up to the new cut-off. A verification that finds a broken rule leaves the checkpoint where it was.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from points.models import Checkpoint, CheckpointAccount
from points.verification import (
    Problem,
    Through,
    checkpoint,
    final_before,
    final_through,
    ledger_problems,
    verified_through,
)

# The figures per account over the entries and lots in a range of ids: (entry from, entry to, lot from, lot to).
ACCOUNT_FIGURES = """
    SELECT COALESCE(e.account_id, l.account_id), COALESCE(e.total, 0), COALESCE(e.credited, 0), COALESCE(l.size, 0)
    FROM (SELECT account_id, SUM(points) AS total, SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS credited
          FROM points_entry WHERE id > %s AND id <= %s GROUP BY account_id) e
    FULL JOIN (SELECT account_id, SUM(points) AS size FROM points_lot WHERE id > %s AND id <= %s
               GROUP BY account_id) l ON l.account_id = e.account_id
    WHERE 1 = 1
"""

INSERT_FIGURES = "INSERT INTO points_checkpointaccount (account_id, total, credited, size) " + ACCOUNT_FIGURES

ADD_FIGURES = (
    INSERT_FIGURES
    + """
    ON CONFLICT (account_id) DO UPDATE SET total = points_checkpointaccount.total + excluded.total,
        credited = points_checkpointaccount.credited + excluded.credited,
        size = points_checkpointaccount.size + excluded.size
"""
)


@dataclass(frozen=True)
class Verification:
    problems: list[Problem]
    # The checkpoint the run read after (None: it read the whole ledger).
    since: Checkpoint | None
    # Where the checkpoint stands after the run.
    through: Through | None
    moved: bool
    seconds: float


def points_verify_ledger(
    *, deep: bool = False, full: bool = False, now: datetime.datetime | None = None
) -> Verification:
    """Check the ledger's rules, from the checkpoint unless `full` (or there is none), and move the checkpoint to
    the rows final at `now` if they hold."""
    started, began = timezone.now(), time.perf_counter()
    before = final_before(now)
    since = None if full else checkpoint()
    # The cut-off is taken before the reading, so that every row up to it is among what the reading sees.
    through = final_through(before, verified_through(since, deep=False))
    problems = ledger_problems(deep=deep, since=since)
    moved = False
    if not problems:
        moved = _checkpoint_move(since=since, through=through, before=before, deep=deep, at=started)
    current = checkpoint()
    return Verification(
        problems=problems,
        since=since,
        through=Through(current.entry_through, current.lot_through, current.lotuse_through) if current else None,
        moved=moved,
        seconds=time.perf_counter() - began,
    )


def _checkpoint_move(*, since, through: Through, before, deep: bool, at) -> bool:
    with transaction.atomic():
        current = Checkpoint.objects.select_for_update().order_by("pk").first()
        if since is None:
            # Everything was read: the figures are summed afresh up to the cut-off.
            CheckpointAccount.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute(INSERT_FIGURES, [0, through.entry, 0, through.lot])
            current = current or Checkpoint(deep_entry_through=None)
            current.entry_through, current.lot_through, current.lotuse_through = through
            current.full_at = at
        else:
            if current is None or current.pk != since.pk or current.entry_through != since.entry_through:
                return False  # another run moved it meanwhile
            entry, lot = max(through.entry, since.entry_through), max(through.lot, since.lot_through)
            with connection.cursor() as cursor:
                cursor.execute(ADD_FIGURES, [since.entry_through, entry, since.lot_through, lot])
            current.entry_through, current.lot_through = entry, lot
            current.lotuse_through = max(through.lotuse, since.lotuse_through)
        if deep:
            # The links were read after the deep cut-offs (or everywhere): they hold up to the new ones.
            current.deep_entry_through = max(through.entry, current.deep_entry_through or 0)
            current.deep_lot_through = max(through.lot, current.deep_lot_through or 0)
            current.deep_lotuse_through = max(through.lotuse, current.deep_lotuse_through or 0)
        current.recorded_before = before
        current.verified_at = at
        current.save()
    return True
