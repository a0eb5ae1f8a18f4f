"""Reads of the ledger worth naming."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from members.models import CardEvent
from points import sql
from points.models import Account, Entry, Lot, Programme, PurchaseCategory, StaffProgramme
from stores.models import Terminal
from stores.selectors import local_day_bounds


def staff_programme_ids(user) -> frozenset[int] | None:
    """The programmes a staff member works for, or None when they work for the whole group (no programme
    named)."""
    ids = frozenset(StaffProgramme.objects.filter(user_id=user.pk).values_list("programme_id", flat=True))
    return ids or None


def card_balance(*, member_id: int, programme) -> Account | None:
    return Account.objects.filter(member_id=member_id, programme=programme).first()


def lots_expiring(*, account: Account, within_days: int = 92, today: datetime.date | None = None) -> list[dict]:
    """Open lots of an account that expire within the window, summed per expiry date (every receipt asks)."""
    today = today or timezone.localdate()
    return sql.lots_expiring(account_id=account.pk, first=today, last=today + datetime.timedelta(days=within_days))


def member_history(*, member_id: int, limit: int = 200):
    return (
        Entry.objects.filter(account__member_id=member_id)
        .select_related("account__programme", "store", "terminal", "staff", "card")
        .order_by("-recorded_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class LiabilityLine:
    programme_id: int
    store_id: int | None
    points: int


def outstanding_points(
    *,
    at: datetime.datetime,
    programme_ids: Collection[int] | None = None,
    purchased: bool | None = None,
) -> tuple[list[LiabilityLine], int]:
    """未使用ポイント残高 as the books stood at `at`, by programme and issuing store (of the programmes named, or
    of all).

    Counts what had been recorded before `at` (recording time, not purchase
    time, so a figure once stated never changes). Lots remember their issuing
    store through transfers; points given by the secretariat have no store.
    Returns the lines and the members' debt (voided points already spent),
    which the lines do not include; lines minus debt equals the ledger sum.
    `purchased`: only the points bought for money (True), or only the free ones (False).
    """
    # As the ORM would pass it (SQLite stores UTC text: an aware Tokyo time would compare as text, wrongly).
    moment = connection.ops.adapt_datetimefield_value(at)
    params: list = [moment, moment]
    programme_filter = ""
    if programme_ids is not None:
        ids = sorted(programme_ids) or [0]
        programme_filter = f"AND a.programme_id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    if purchased is not None:
        programme_filter += " AND l.purchased = %s"
        params.append(purchased)
    sql = f"""
        SELECT a.programme_id, l.store_id,
               SUM(l.points) - COALESCE(SUM(u.used), 0)
        FROM points_lot l
        JOIN points_entry e ON e.id = l.entry_id
        JOIN points_account a ON a.id = l.account_id
        LEFT JOIN (
            SELECT lu.lot_id, SUM(lu.points) AS used
            FROM points_lotuse lu JOIN points_entry ue ON ue.id = lu.entry_id
            WHERE ue.recorded_at < %s
            GROUP BY lu.lot_id
        ) u ON u.lot_id = l.id
        WHERE e.recorded_at < %s {programme_filter}
        GROUP BY a.programme_id, l.store_id
        ORDER BY a.programme_id, l.store_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        lines = [LiabilityLine(p, s, int(n)) for p, s, n in cursor.fetchall() if n]
    entries = Entry.objects.filter(recorded_at__lt=at)
    if programme_ids is not None:
        entries = entries.filter(account__programme_id__in=programme_ids)
    net = entries.aggregate(n=Sum("points"))["n"] or 0
    return lines, sum(line.points for line in lines) - net


def accounts_with_points(*, programme_id: int | None = None):
    query = Q(balance__gt=0) | Q(debt__gt=0)
    accounts = Account.objects.filter(query)
    return accounts.filter(programme_id=programme_id) if programme_id else accounts


def terminals_with_transactions_today(*, queryset: QuerySet | None = None, today: datetime.date | None = None):
    """Terminals annotated with `transactions_today`: the operations (a purchase
    with its bonuses counts once, as do a spend and a void) recorded through
    each terminal since midnight in the programme's time zone.

    A correlated subquery, not a join: the database counts only for the rows a
    page actually shows, never for the whole ledger.
    """
    queryset = Terminal.objects.all() if queryset is None else queryset
    start, end = local_day_bounds(today or timezone.localdate())
    operations = (
        Entry.objects.filter(terminal=OuterRef("pk"), recorded_at__gte=start, recorded_at__lt=end)
        .order_by()
        .values("terminal")
        .annotate(n=Count("operation", distinct=True))
        .values("n")
    )
    return queryset.annotate(
        transactions_today=Coalesce(Subquery(operations, output_field=IntegerField()), 0),
    )


# --- the member page ---------------------------------------------------------------------


def member_accounts(*, member_id: int, programme_ids: Collection[int] | None = None) -> list[Account]:
    """The member's balance (and debt) in each programme they have an account in (of those named, or all), by
    programme code; where the programme sells points, `purchased` is the part bought for money (shown apart,
    区分表示), else None."""
    accounts = Account.objects.filter(member_id=member_id)
    if programme_ids is not None:
        accounts = accounts.filter(programme_id__in=programme_ids)
    # The purchased part of every account in the same query as the accounts.
    bought = Lot.objects.filter(account=OuterRef("pk"), remaining__gt=0, purchased=True).values("account")
    accounts = list(
        accounts.select_related("programme")
        .annotate(bought=Subquery(bought.annotate(n=Sum("remaining")).values("n")))
        .order_by("programme__code")
    )
    for account in accounts:
        account.purchased = (account.bought or 0) if account.programme.sells_points else None
        account.free = account.balance - (account.purchased or 0)
    return accounts


@dataclass(frozen=True)
class ExpiringMonth:
    programme_name: str
    month: datetime.date  # the first day of the month the points expire in
    points: int


def member_points_expiring_by_month(
    *, member_id: int, programme_ids: Collection[int] | None = None
) -> list[ExpiringMonth]:
    """The points the member still holds, summed per month of expiry and programme (of those named, or all),
    soonest first.

    A lot already past its date counts until the nightly expiry takes it: it is still in the balance.
    """
    lots = Lot.objects.filter(account__member_id=member_id, remaining__gt=0)
    if programme_ids is not None:
        lots = lots.filter(account__programme_id__in=programme_ids)
    rows = (
        lots.annotate(month=TruncMonth("expires_on"))
        .values("month", "account__programme__name")
        .annotate(points=Sum("remaining"))
        .order_by("month", "account__programme__name")
    )
    return [ExpiringMonth(row["account__programme__name"], row["month"], row["points"]) for row in rows]


@dataclass(frozen=True)
class HistoryLine:
    """A ledger entry or a card event, whichever happened; `at` orders them."""

    at: datetime.datetime
    entry: Entry | None = None
    card_event: CardEvent | None = None


def member_recent_history(
    *, member_id: int, limit: int = 30, card_events: bool = True, programme_ids: Collection[int] | None = None
) -> list[HistoryLine]:
    """The member's latest ledger entries (in the programmes named, or all) and (unless told not to) card events
    together, newest first; card numbers are not read."""
    entries = Entry.objects.filter(account__member_id=member_id)
    if programme_ids is not None:
        entries = entries.filter(account__programme_id__in=programme_ids)
    entries = (
        entries.select_related("account__programme", "store", "staff", "card")
        .defer("card__number")
        .order_by("-recorded_at", "-id")[:limit]
    )
    events = (
        CardEvent.objects.filter(member_id=member_id)
        .select_related("card", "other_card", "staff")
        .defer("card__number", "other_card__number")
        .order_by("-at", "-id")[:limit]
    )
    lines = [HistoryLine(entry.recorded_at, entry=entry) for entry in entries]
    if card_events:
        lines += [HistoryLine(event.at, card_event=event) for event in events]
    return sorted(lines, key=lambda line: line.at, reverse=True)[:limit]


# --- the items of purchases -----------------------------------------------------------------


def earns_with_categories(categories):
    """The ids of the earnings whose terminal sent an item of one of `categories` (a subquery)."""
    return PurchaseCategory.objects.filter(category__in=list(categories)).values("earn_id")


def earn_item_categories(earns, categories) -> dict[int, frozenset[str]]:
    """For each earning of `earns` (a queryset) that had items of `categories`, which of them (one query)."""
    found = defaultdict(set)
    rows = PurchaseCategory.objects.filter(earn__in=earns.values("pk"), category__in=list(categories))
    for earn_id, category in rows.values_list("earn_id", "category").iterator(10_000):
        found[earn_id].add(category)
    return {earn_id: frozenset(categories) for earn_id, categories in found.items()}


def purchased_balance(*, account: Account) -> int:
    """How many of the account's points were bought for money (one aggregate over its open lots)."""
    return Lot.objects.filter(account=account, remaining__gt=0, purchased=True).aggregate(n=Sum("remaining"))["n"] or 0


# 資金決済法: above this unused balance at a base date, half of it must be secured (発行保証金の供託等).
SECURITY_THRESHOLD_YEN = 10_000_000


@dataclass(frozen=True)
class BaseDateLine:
    programme: Programme
    base_date: datetime.date
    unused_yen: int

    @property
    def over_threshold(self) -> bool:
        return self.unused_yen > SECURITY_THRESHOLD_YEN

    @property
    def to_secure_yen(self) -> int:
        """At least half of the unused balance, when it is above the threshold (rounded up to the yen)."""
        return -(-self.unused_yen // 2) if self.over_threshold else 0


def base_dates(*, today: datetime.date, count: int = 4) -> list[datetime.date]:
    """The last `count` base dates (3/31 and 9/30) up to today, newest first."""
    found = []
    year = today.year
    while len(found) < count:
        for day in (datetime.date(year, 9, 30), datetime.date(year, 3, 31)):
            if day <= today and len(found) < count:
                found.append(day)
        year -= 1
    return found


def purchased_unused(*, base_date: datetime.date, programme_ids: Collection[int] | None = None) -> list[BaseDateLine]:
    """Per programme that sells points (or ever sold them; of those named, or all), the purchased points unused
    at the end of the base date (Tokyo), as recorded by then: 1 point = 1 yen."""
    at = datetime.datetime.combine(
        base_date + datetime.timedelta(days=1), datetime.time(), tzinfo=timezone.get_default_timezone()
    )
    lines, _debt = outstanding_points(at=at, programme_ids=programme_ids, purchased=True)
    unused: dict[int, int] = {}
    for line in lines:
        unused[line.programme_id] = unused.get(line.programme_id, 0) + line.points
    programmes = Programme.objects.filter(Q(sells_points=True) | Q(pk__in=list(unused))).order_by("code")
    if programme_ids is not None:
        programmes = programmes.filter(pk__in=programme_ids)
    return [BaseDateLine(programme, base_date, unused.get(programme.pk, 0)) for programme in programmes]
