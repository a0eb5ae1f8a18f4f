"""The nightly evaluation of ranks: every member of a programme is placed on its ladder by their purchases
(net of voids and refunds) in the programme's windows, in one set-based reading of the ledger; each change
is recorded with the figures it was decided on.

A rank reached during a day applies from the next midnight, when this runs (the till reads the rank as it
stood then). A member whose purchases fall below their rank keeps it for the policy's grace, counted from
the first night they were below.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db import connection, transaction

from points.models import Entry, Programme
from ranks.models import MemberRank, Rank, RankPolicy, RankRecord
from stores.selectors import local_midnight


@dataclass(frozen=True)
class Window:
    label: str  # "2026-01〜2026-11"
    first_day: datetime.date


@dataclass(frozen=True)
class Change:
    member_id: int
    rank_before: Rank | None
    rank: Rank
    purchases_yen: int
    reason: str


def rank_windows(policy: RankPolicy, day: datetime.date) -> list[Window]:
    """The policy's windows for the evaluation at the start of `day`: each ends with the day before."""
    last = day - datetime.timedelta(days=1)
    windows = []
    if policy.calendar_month:
        windows.append(Window(f"{last:%Y-%m}", last.replace(day=1)))
    if policy.last_months:
        month = last.month - policy.last_months
        year = last.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        first = _same_day_after(last, year, month)
        windows.append(Window(f"{first:%Y-%m-%d}〜{last:%Y-%m-%d}", first))
    if policy.calendar_year:
        first = datetime.date(last.year, 1, 1)
        windows.append(Window(f"{first:%Y-%m}〜{last:%Y-%m}", first))
    return windows


def _same_day_after(last: datetime.date, year: int, month: int) -> datetime.date:
    """The day after `last`'s day of month in an earlier month: the last 3 months up to 2026-11-30 start on
    2026-08-31."""
    day = min(last.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day) + datetime.timedelta(days=1)


# Each member's net purchases in each window: earnings whose moment falls in it, less what was refunded of
# them (a void refunds the whole purchase) up to the evaluation. One pass over the programme's earnings.
PURCHASES = """
SELECT a.member_id, {sums}
FROM points_entry e
JOIN points_account a ON a.id = e.account_id
LEFT JOIN (
    SELECT reverses_id, SUM(amount_yen) AS refunded FROM points_entry
    WHERE kind = %s AND reverses_id IS NOT NULL AND recorded_at < %s GROUP BY reverses_id
) r ON r.reverses_id = e.id
WHERE a.programme_id = %s AND e.kind = %s AND e.occurred_at >= %s AND e.occurred_at < %s
GROUP BY a.member_id
"""


def rank_purchases(*, programme: Programme, windows: list[Window], day: datetime.date) -> dict[int, list[int]]:
    """Member id -> net purchases in yen per window (members with none are absent)."""
    moment = Entry._meta.get_field("occurred_at")
    end = moment.get_db_prep_value(local_midnight(day), connection)
    starts = [moment.get_db_prep_value(local_midnight(window.first_day), connection) for window in windows]
    net = "CASE WHEN COALESCE(r.refunded, 0) < e.amount_yen THEN e.amount_yen - COALESCE(r.refunded, 0) ELSE 0 END"
    sums = ", ".join(f"COALESCE(SUM(CASE WHEN e.occurred_at >= %s THEN {net} END), 0)" for _ in windows)
    statement = PURCHASES.format(sums=sums)
    params = [*starts, Entry.Kind.VOID, end, programme.pk, Entry.Kind.EARN, min(starts), end]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return {member_id: [int(value) for value in values] for member_id, *values in cursor.fetchall()}


def ranks_evaluate(*, programme: Programme, day: datetime.date, dry_run: bool = False) -> list[Change]:
    """Place every member of the programme on its ladder for `day` (run at its midnight); returns the changes,
    which a dry run only tells."""
    policy = RankPolicy.objects.get(programme=programme)
    ladder = list(Rank.objects.filter(programme=programme).order_by("threshold_yen"))
    if not ladder:
        return []
    base = ladder[0]
    by_id = {rank.pk: rank for rank in ladder}
    windows = rank_windows(policy, day)
    with transaction.atomic():
        # Plain rows, not model instances: a programme has hundreds of thousands of members.
        current = {
            member_id: Current(pk, by_id[rank_id], below_since)
            for pk, member_id, rank_id, below_since in MemberRank.objects.select_for_update()
            .filter(programme=programme)
            .values_list("pk", "member_id", "rank_id", "below_since")
        }
        purchases = rank_purchases(programme=programme, windows=windows, day=day)
        changes, below = [], {}
        for member_id in sorted(set(purchases) | set(current)):
            figures = purchases.get(member_id, [0] * len(windows))
            best = max(range(len(windows)), key=lambda index: figures[index])
            amount, window = figures[best], windows[best]
            target = [rank for rank in ladder if rank.threshold_yen <= amount][-1]
            row = current.get(member_id)
            now = row.rank if row else base
            if target.threshold_yen > now.threshold_yen:
                reason = f"{window.label} のお買上げ {amount:,}円 ≥ {target.threshold_yen:,}円"
                changes.append(Change(member_id, row.rank if row else None, target, amount, reason))
            elif target.threshold_yen < now.threshold_yen:
                below_since = row.below_since or day
                if (day - below_since).days >= policy.downgrade_grace_days:
                    reason = f"{window.label} のお買上げ {amount:,}円 < {now.threshold_yen:,}円（{now.name}の基準）"
                    if policy.downgrade_grace_days:
                        reason += f"、{below_since:%Y-%m-%d}から{policy.downgrade_grace_days}日の猶予を経過"
                    changes.append(Change(member_id, now, target, amount, reason))
                elif row.below_since is None:
                    below[row.pk] = day
            elif row is not None and row.below_since is not None:
                below[row.pk] = None
        if not dry_run:
            _apply(programme, day, changes, current, below)
    return changes


@dataclass(frozen=True)
class Current:
    pk: int
    rank: Rank
    below_since: datetime.date | None


def _apply(programme, day, changes: list[Change], current: dict[int, Current], below: dict) -> None:
    RankRecord.objects.bulk_create(
        (
            RankRecord(
                member_id=change.member_id,
                programme=programme,
                rank_before=change.rank_before,
                rank=change.rank,
                effective_on=day,
                purchases_yen=change.purchases_yen,
                reason=change.reason[:300],
            )
            for change in changes
        ),
        batch_size=5_000,
    )
    new, moved = [], []
    for change in changes:
        row = current.get(change.member_id)
        if row is None:
            new.append(MemberRank(member_id=change.member_id, programme=programme, rank=change.rank, since=day))
        else:
            moved.append(MemberRank(pk=row.pk, rank=change.rank, since=day, below_since=None))
    MemberRank.objects.bulk_create(new, batch_size=5_000)
    MemberRank.objects.bulk_update(moved, ["rank", "since", "below_since"], batch_size=5_000)
    MemberRank.objects.bulk_update(
        [MemberRank(pk=pk, below_since=since) for pk, since in below.items()], ["below_since"], batch_size=5_000
    )


def ranks_evaluate_all(*, day: datetime.date) -> dict[str, int]:
    """Every programme with a rank rule; the number of changes by programme code."""
    return {
        policy.programme.code: len(ranks_evaluate(programme=policy.programme, day=day))
        for policy in RankPolicy.objects.select_related("programme").order_by("programme__code")
    }
