"""The nightly evaluation of ranks: every member of a programme is placed on its ladder by their purchases
(net of voids and refunds) in the programme's windows, in one set-based reading of the ledger; each change
is recorded with the figures it was decided on.

A rank reached during a day applies from the next midnight, when this runs (the till reads the rank as it
stood then), or from the next purchase in a programme that moves members up at once. A member whose
purchases fall below their rank keeps it for the policy's grace, counted from the first night they were
below.

At the till (`rank_standing`, `rank_after_earn`): the member's rank gives its extra points on an earning, and
the receipt and the card lookup show it with what remains to the next rank or to keep this one.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.snapshots import RowsSnapshot
from points.models import Entry, Funder, Programme
from points.services import BonusGrant, Posting, points_bonuses
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
WHERE a.programme_id = %s AND e.kind = %s AND e.occurred_at >= %s AND e.occurred_at < %s{member}
GROUP BY a.member_id
"""


def rank_purchases(
    *,
    programme: Programme,
    windows: list[Window],
    day: datetime.date,
    until: datetime.datetime | None = None,
    member_id: int | None = None,
) -> dict[int, list[int]]:
    """Member id -> net purchases in yen per window, up to the start of `day` or to `until` (members with
    none are absent); of one member only when `member_id` is given (the till)."""
    moment = Entry._meta.get_field("occurred_at")
    end = moment.get_db_prep_value(until or local_midnight(day), connection)
    starts = [moment.get_db_prep_value(local_midnight(window.first_day), connection) for window in windows]
    net = "CASE WHEN COALESCE(r.refunded, 0) < e.amount_yen THEN e.amount_yen - COALESCE(r.refunded, 0) ELSE 0 END"
    sums = ", ".join(f"COALESCE(SUM(CASE WHEN e.occurred_at >= %s THEN {net} END), 0)" for _ in windows)
    statement = PURCHASES.format(sums=sums, member="" if member_id is None else " AND a.member_id = %s")
    params = [*starts, Entry.Kind.VOID, end, programme.pk, Entry.Kind.EARN, min(starts), end]
    if member_id is not None:
        params.append(member_id)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return {member_id: [int(value) for value in values] for member_id, *values in cursor.fetchall()}


def _best(figures: list[int], windows: list[Window]) -> tuple[int, Window]:
    best = max(range(len(windows)), key=lambda index: figures[index])
    return figures[best], windows[best]


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
            member_id: Current(pk, by_id[rank_id], below_since, valid_until)
            for pk, member_id, rank_id, below_since, valid_until in MemberRank.objects.select_for_update()
            .filter(programme=programme)
            .values_list("pk", "member_id", "rank_id", "below_since", "valid_until")
        }
        purchases = rank_purchases(programme=programme, windows=windows, day=day)
        changes, below = [], {}
        for member_id in sorted(set(purchases) | set(current)):
            amount, window = _best(purchases.get(member_id, [0] * len(windows)), windows)
            target = [rank for rank in ladder if rank.threshold_yen <= amount][-1]
            row = current.get(member_id)
            now = row.rank if row else base
            if target.threshold_yen > now.threshold_yen:
                reason = f"{window.label} のお買上げ {amount:,}円 ≥ {target.threshold_yen:,}円"
                changes.append(Change(member_id, row.rank if row else None, target, amount, reason))
            elif target.threshold_yen < now.threshold_yen and row.valid_until is not None and day <= row.valid_until:
                # A rank brought over from an old system holds until its validity ends, whatever the purchases.
                continue
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
    valid_until: datetime.date | None = None


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
            moved.append(MemberRank(pk=row.pk, rank=change.rank, since=day, below_since=None, valid_until=None))
    MemberRank.objects.bulk_create(new, batch_size=5_000)
    MemberRank.objects.bulk_update(moved, ["rank", "since", "below_since", "valid_until"], batch_size=5_000)
    MemberRank.objects.bulk_update(
        [MemberRank(pk=pk, below_since=since) for pk, since in below.items()], ["below_since"], batch_size=5_000
    )


def ranks_evaluate_all(*, day: datetime.date) -> dict[str, int]:
    """Every programme with a rank rule; the number of changes by programme code."""
    return {
        policy.programme.code: len(ranks_evaluate(programme=policy.programme, day=day))
        for policy in RankPolicy.objects.select_related("programme").order_by("programme__code")
    }


# --- at the till -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ladder:
    """A programme's rule and its ranks, lowest first: what every earning in the programme reads."""

    policy: RankPolicy
    ranks: tuple[Rank, ...]

    def rank(self, rank_id: int | None) -> Rank:
        return next((rank for rank in self.ranks if rank.pk == rank_id), self.ranks[0])

    def above(self, rank: Rank) -> Rank | None:
        return next((higher for higher in self.ranks if higher.threshold_yen > rank.threshold_yen), None)


def _ladder_load(programme_id: int) -> Ladder | None:
    policy = RankPolicy.objects.filter(programme_id=programme_id).first()
    ranks = tuple(Rank.objects.filter(programme_id=programme_id).order_by("threshold_yen"))
    return Ladder(policy, ranks) if policy is not None and ranks else None


# A programme's ladder, read once per process and asked at each earning (with the terminal) whether it
# changed: a programme without ranks costs its earnings nothing more.
_LADDERS = RowsSnapshot(
    version_sql=(
        "SELECT CAST(COUNT(*) AS TEXT) || '/' || COALESCE(CAST(MAX(updated_at) AS TEXT), '') || '/' || "
        "COALESCE((SELECT CAST(updated_at AS TEXT) FROM ranks_rankpolicy WHERE programme_id = %s), '') "
        "FROM ranks_rank WHERE programme_id = %s"
    ),
    load=_ladder_load,
)


def rank_ladder(*, programme: Programme) -> Ladder | None:
    """The programme's ladder, or None when it has no ranks."""
    return _LADDERS.get(programme.pk)


@dataclass(frozen=True)
class Standing:
    """A member's rank at the till, and what remains to the next rank or to keep this one."""

    rank: Rank
    next_rank: Rank | None
    to_next_yen: int | None
    to_keep_yen: int | None

    @property
    def text(self) -> str:
        """What the receipt prints under the rank: "ゴールドまであと 12,300円"."""
        if self.to_keep_yen:
            return _("%(yen)s yen more to keep %(rank)s") % {"rank": self.rank.name, "yen": f"{self.to_keep_yen:,}"}
        if self.next_rank is None:
            return ""
        if not self.to_next_yen:
            return _("%(rank)s from tomorrow") % {"rank": self.next_rank.name}
        return _("%(yen)s yen more to %(rank)s") % {"rank": self.next_rank.name, "yen": f"{self.to_next_yen:,}"}


def _current_rank_id(member_id: int, programme: Programme) -> int | None:
    return MemberRank.objects.filter(member_id=member_id, programme=programme).values_list("rank_id", flat=True).first()


def rank_standing(*, member_id: int, programme: Programme, at: datetime.datetime | None = None) -> Standing | None:
    """The member's rank now and, from their purchases up to `at` in the windows of the next evaluation,
    what remains to the next rank (or to keep this one); None in a programme without ranks."""
    ladder = rank_ladder(programme=programme)
    if ladder is None:
        return None
    at = at or timezone.now()
    rank = ladder.rank(_current_rank_id(member_id, programme))
    windows = rank_windows(ladder.policy, timezone.localtime(at).date() + datetime.timedelta(days=1))
    figures = rank_purchases(programme=programme, windows=windows, day=at.date(), until=at, member_id=member_id)
    amount, _window = _best(figures.get(member_id, [0] * len(windows)), windows)
    higher = ladder.above(rank)
    return Standing(
        rank=rank,
        next_rank=higher,
        to_next_yen=max(higher.threshold_yen - amount, 0) if higher else None,
        to_keep_yen=max(rank.threshold_yen - amount, 0) or None,
    )


def rank_after_earn(*, posting: Posting, programme: Programme, amount_yen: int) -> Rank | None:
    """On an earning, in its transaction: the member's rank (as it stood at midnight, or as a purchase moved
    it since in an "at once" programme) gives its extra points, as a bonus the programme funds; then, in an
    "at once" programme, a purchase that reaches a higher rank moves the member up for the next one.
    Returns the rank the earning was given at (None in a programme without ranks)."""
    ladder = rank_ladder(programme=programme)
    if ladder is None or not posting.entries:
        return None
    earn = posting.entries[0]
    member_id = posting.account.member_id
    rank_id = _current_rank_id(member_id, programme)
    rank = ladder.rank(rank_id)
    if posting.replayed:
        return rank
    extra = earn.points * (rank.multiplier_percent - 100) // 100 + amount_yen * rank.extra_rate_bp // 10_000
    if extra > 0:
        reason = _("%(rank)s member") % {"rank": rank.name}
        grant = BonusGrant(extra, Funder.SECRETARIAT, reason, f"{earn.idempotency_key}:rank")
        points_bonuses(earn=posting, grants=[grant])
    if ladder.policy.at_once:
        _move_up_now(ladder, rank if rank_id else None, member_id, programme, earn.occurred_at)
    return rank


def _move_up_now(ladder: Ladder, held: Rank | None, member_id: int, programme: Programme, at) -> None:
    """An "at once" programme: the purchases up to this one, in the next evaluation's windows, reach a higher
    rank than the one `held` (None: the lowest, without a row): the member holds it from now, recorded as
    the night's evaluation records a change."""
    day = timezone.localtime(at).date()
    windows = rank_windows(ladder.policy, day + datetime.timedelta(days=1))
    until = at + datetime.timedelta(microseconds=1)
    figures = rank_purchases(programme=programme, windows=windows, day=day, until=until, member_id=member_id)
    amount, window = _best(figures.get(member_id, [0] * len(windows)), windows)
    target = [step for step in ladder.ranks if step.threshold_yen <= amount][-1]
    if target.threshold_yen <= (held or ladder.ranks[0]).threshold_yen:
        return
    RankRecord.objects.create(
        member_id=member_id,
        programme=programme,
        rank_before=held,
        rank=target,
        effective_on=day,
        purchases_yen=amount,
        reason=f"{window.label} のお買上げ {amount:,}円 ≥ {target.threshold_yen:,}円（即時）",
    )
    MemberRank.objects.update_or_create(
        member_id=member_id, programme=programme, defaults={"rank": target, "since": day, "below_since": None}
    )
