"""Reads of the billing app worth a name: terms in force, ledger figures of a period, overdue statements."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing.models import BillingSettings, Period, Statement, StoreBillingTerms
from points.models import Account, Entry, Funder, Participation, Programme
from stores.models import Store

TERM_FIELDS = ("issue_price_bp", "payback_rate_bp", "system_fee_yen", "terminal_rental_yen", "transaction_fee_yen")
BILLED_KINDS = (Entry.Kind.EARN, Entry.Kind.BONUS, Entry.Kind.SPEND, Entry.Kind.VOID)


def store_terms(*, settings: BillingSettings, overrides: dict[int, StoreBillingTerms], store_id: int) -> dict[str, int]:
    """The prices and fees in force for a store: its own where set, else the programme's."""
    own = overrides.get(store_id)
    return {
        name: getattr(own, name) if own is not None and getattr(own, name) is not None else getattr(settings, name)
        for name in TERM_FIELDS
    }


@dataclass
class StoreFigures:
    """What the ledger says about one store in a period. Points are positive counts unless noted."""

    issued: int = 0
    bonus_store: int = 0
    bonus_secretariat: int = 0
    # Signed, as the ledger has them: voids of issued points are negative, of spent points positive.
    void_issued: int = 0
    void_bonus_secretariat: int = 0
    void_spent: int = 0
    spent: int = 0
    # Points bought for money at the store (1 point = 1 yen): the yen it took on the programme's behalf.
    sold: int = 0
    transactions: int = 0
    # day → [points issued (net of voids), points spent (net of voids), transactions]
    days: dict[datetime.date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))


def _bucket(kind: str, funder: str, original: str | None, original_funder: str | None) -> str:
    if kind == Entry.Kind.EARN:
        return "issued"
    if kind == Entry.Kind.BONUS:
        return "bonus_store" if funder == Funder.STORE else "bonus_secretariat"
    if kind == Entry.Kind.SPEND:
        return "spent"
    if kind == Entry.Kind.PURCHASE:
        return "sold"
    # A void: by what it reverses.
    if original == Entry.Kind.SPEND:
        return "void_spent"
    if original == Entry.Kind.BONUS and original_funder == Funder.SECRETARIAT:
        return "void_bonus_secretariat"
    return "void_issued"


def _period_entries(*, programme: Programme, starts_at, ends_at):
    entries = Entry.objects.filter(recorded_at__gte=starts_at, recorded_at__lt=ends_at)
    # With one programme in the system every entry is the programme's; the join to accounts that tells
    # programmes apart costs a third of the close's reading of the ledger.
    if Programme.objects.exclude(pk=programme.pk).exists():
        entries = entries.filter(account__programme=programme)
    return entries


def period_store_figures(*, programme: Programme, starts_at, ends_at, store_ids=None) -> dict[int, StoreFigures]:
    """Per store, the period's billed movements, grouped by day in the database.

    A period holds what was *recorded* in it (not the till's purchase time), so
    that nothing can arrive later in a period already closed. Purchases are
    read in one grouped pass; voids, a small share, separately, with what they
    reverse. Days are Tokyo dates (TruncDate in the current time zone); an
    extended statistic on that grouping (billing migration 0004) lets
    PostgreSQL plan the pass in parallel.
    """
    entries = _period_entries(programme=programme, starts_at=starts_at, ends_at=ends_at).filter(store__isnull=False)
    if store_ids is not None:
        # A merchant's own stores (the portal), through the (store, recorded_at) index.
        entries = entries.filter(store_id__in=list(store_ids))
    purchases = (
        entries.filter(kind__in=[Entry.Kind.EARN, Entry.Kind.BONUS, Entry.Kind.SPEND, Entry.Kind.PURCHASE])
        .values("store_id", "kind", "funder", day=TruncDate("recorded_at"))
        .annotate(points=Sum("points"), n=Count("id"))
        .order_by()
    )
    voids = (
        entries.filter(kind=Entry.Kind.VOID)
        .values("store_id", "kind", "funder", "reverses__kind", "reverses__funder", day=TruncDate("recorded_at"))
        .annotate(points=Sum("points"), n=Count("id"))
        .order_by()
    )
    figures: dict[int, StoreFigures] = defaultdict(StoreFigures)
    for row in [*purchases, *voids]:
        found = figures[row["store_id"]]
        bucket = _bucket(row["kind"], row["funder"], row.get("reverses__kind"), row.get("reverses__funder"))
        points = row["points"]
        day = found.days[row["day"]]
        if bucket == "sold":
            # Not a movement of issued or spent points: the statement shows it on a line of its own.
            found.sold += points
            continue
        if bucket == "spent":
            found.spent -= points
            day[1] -= points
        elif bucket == "void_spent":
            found.void_spent += points
            day[1] -= points
        else:
            setattr(found, bucket, getattr(found, bucket) + points)
            day[0] += points
        if row["kind"] in (Entry.Kind.EARN, Entry.Kind.SPEND):
            found.transactions += row["n"]
            day[2] += row["n"]
    return dict(figures)


def period_ledger_movements(*, programme: Programme, starts_at, ends_at) -> dict[str, dict[str, int]]:
    """Points moved in the period by kind, for all of the programme and for entries made at a store.

    Deliberately a second, plainer query than `period_store_figures`: the close
    ties its statements out against it.
    """
    rows = (
        _period_entries(programme=programme, starts_at=starts_at, ends_at=ends_at)
        .values("kind")
        .annotate(all=Sum("points"), at_stores=Sum("points", filter=Q(store__isnull=False)))
        .order_by()
    )
    return {
        "all": {row["kind"]: row["all"] for row in rows},
        "at_stores": {row["kind"]: row["at_stores"] or 0 for row in rows if row["kind"] in BILLED_KINDS},
    }


def outstanding_at(*, programme: Programme, at) -> int:
    """Points the programme owed its members at `at` (balances less debts), from the accounts' cached
    balances less everything recorded since: a reading independent of the period's own entries."""
    now = Account.objects.filter(programme=programme).aggregate(n=Sum(F("balance") - F("debt")))["n"] or 0
    since = Entry.objects.filter(recorded_at__gte=at, account__programme=programme).aggregate(n=Sum("points"))["n"]
    return now - (since or 0)


def entries_sum_before(*, programme: Programme, at) -> int:
    """The sum of every entry recorded before `at`: what the programme owed then, by the entries."""
    total = Entry.objects.filter(recorded_at__lt=at, account__programme=programme).aggregate(n=Sum("points"))["n"]
    return total or 0


def period_billable_stores(*, programme: Programme, starts_at, ends_at, with_activity=()):
    """Stores of the programme whose contract overlaps the period, and the stores (ids) in `with_activity`,
    with the number of their terminals rented in the period."""
    first, last = timezone.localdate(starts_at), timezone.localdate(ends_at) - datetime.timedelta(days=1)
    rented = Q(terminals__created_at__lt=ends_at) & (
        Q(terminals__revoked_at__isnull=True) | Q(terminals__revoked_at__gte=starts_at)
    )
    under_contract = (
        Q(pk__in=Participation.objects.filter(programme=programme).values("store_id"))
        & Q(contract_start__lte=last)
        & (Q(contract_end__isnull=True) | Q(contract_end__gte=first))
    )
    return (
        Store.objects.filter(under_contract | Q(pk__in=list(with_activity)))
        .select_related("merchant")
        .annotate(terminals_rented=Count("terminals", filter=rented, distinct=True))
        .order_by("code")
    )


def statements_overdue(*, today: datetime.date | None = None):
    """Statements past their due date and not yet settled (either way), oldest first."""
    today = today or timezone.localdate()
    return (
        Statement.objects.exclude(status=Statement.Status.CANCELLED)
        .exclude(direction=Statement.Direction.EVEN)
        .filter(due_on__lt=today, settled_on__isnull=True)
        .select_related("store", "merchant", "period")
        .order_by("due_on", "number")
    )


def periods_to_close(
    *, programme_ids=None, now: datetime.datetime | None = None, automatic_only: bool = False
) -> list[tuple[Programme, int, int]]:
    """Each programme's last ended period (the one before the period running now) that is not closed yet:
    what the secretariat has to close, or the schedule closes where it closes automatically. Programmes
    without billing settings bill nothing. Two queries, however many programmes."""
    from billing.periods import period_containing

    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = BillingSettings.objects.select_related("programme").order_by("programme__code")
    if programme_ids is not None:
        settings = settings.filter(programme_id__in=programme_ids)
    if automatic_only:
        settings = settings.filter(close_automatically=True)
    wanted = []
    for found in settings:
        year, month = period_containing(today, closing_day=found.closing_day)
        # The period before the one running now.
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        wanted.append((found.programme, year, month))
    if not wanted:
        return []
    which = Q()
    for programme, year, month in wanted:
        which |= Q(programme=programme, year=year, month=month)
    closed = set(Period.objects.filter(which, status=Period.Status.CLOSED).values_list("programme_id", "year", "month"))
    return [(programme, year, month) for programme, year, month in wanted if (programme.pk, year, month) not in closed]


def periods_due_for_close(*, now: datetime.datetime | None = None):
    """Programmes' periods that have ended and are not closed yet: what the schedule closes."""
    return periods_to_close(now=now, automatic_only=True)
