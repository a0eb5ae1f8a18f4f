"""What a merchant sees in the portal: its stores' running figures, their terminals, and its sent statements.

Every read starts from the merchant, never from an id alone.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from billing.models import BillingSettings, Statement
from billing.periods import period_bounds, period_containing
from billing.selectors import period_store_figures
from points.errors import StoreNotInProgramme
from points.models import Participation, Programme
from points.services import programme_for_store
from stores.models import Merchant, Store, Terminal
from stores.selectors import terminal_silent_since


@dataclass(frozen=True)
class DayFigures:
    date: datetime.date
    issued: int
    spent: int
    transactions: int


@dataclass(frozen=True)
class RunningPeriod:
    """A store's figures from the start of the period running today up to now."""

    first_day: datetime.date
    last_day: datetime.date  # inclusive
    issued: int
    spent: int
    transactions: int
    days: tuple[DayFigures, ...]  # every day from today back to the first, newest first


@dataclass(frozen=True)
class TerminalContact:
    code: str
    name: str
    last_seen_at: datetime.datetime | None
    silent: bool


@dataclass(frozen=True)
class StoreOverview:
    store: Store
    period: RunningPeriod | None  # None when the store takes part in no programme (or, unexpectedly, several)
    terminals: tuple[TerminalContact, ...]


def merchant_stores(*, merchant: Merchant) -> QuerySet[Store]:
    """The merchant's stores with their active terminals."""
    return (
        Store.objects.filter(merchant=merchant)
        .prefetch_related(
            Prefetch("terminals", queryset=Terminal.objects.filter(status=Terminal.Status.ACTIVE).order_by("code"))
        )
        .order_by("code")
    )


def merchant_programme_ids(*, merchant: Merchant) -> frozenset[int]:
    """The programmes the merchant's stores take part in: the figures its analytics read."""
    return frozenset(
        Participation.objects.filter(store__merchant=merchant).values_list("programme_id", flat=True).distinct()
    )


def running_period_bounds(*, programme: Programme, today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the programme's billing period that contains `today`; a calendar month when the
    programme has no billing settings."""
    closing_day = BillingSettings.objects.filter(programme=programme).values_list("closing_day", flat=True).first()
    year, month = period_containing(today, closing_day=closing_day or 0)
    return period_bounds(year=year, month=month, closing_day=closing_day or 0)


def _running_period(figures, starts_at, ends_at, today: datetime.date) -> RunningPeriod:
    first_day = timezone.localdate(starts_at)
    last_day = timezone.localdate(ends_at) - datetime.timedelta(days=1)
    by_day = figures.days if figures is not None else {}
    days = []
    day = min(today, last_day)
    while day >= first_day:
        issued, spent, transactions = by_day.get(day, (0, 0, 0))
        days.append(DayFigures(day, issued, spent, transactions))
        day -= datetime.timedelta(days=1)
    # Totals from the days, so that the dashboard, the store page and the statement's daily table agree:
    # issued is net of voids and includes campaign bonuses, spent is net of voids.
    return RunningPeriod(
        first_day=first_day,
        last_day=last_day,
        issued=sum(d.issued for d in days),
        spent=sum(d.spent for d in days),
        transactions=sum(d.transactions for d in days),
        days=tuple(days),
    )


def _terminals(store: Store, now: datetime.datetime) -> tuple[TerminalContact, ...]:
    since = terminal_silent_since(now=now)
    return tuple(
        TerminalContact(
            code=terminal.code,
            name=terminal.name,
            last_seen_at=terminal.last_seen_at,
            silent=terminal.last_seen_at is None or terminal.last_seen_at < since,
        )
        for terminal in store.terminals.all()
    )


def store_overviews(*, stores, today: datetime.date | None = None) -> list[StoreOverview]:
    """Each store's running period and terminals. The ledger is read once per programme, not per store."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    stores = list(stores)
    by_programme: dict[Programme, list[Store]] = defaultdict(list)
    for store in stores:
        try:
            by_programme[programme_for_store(store=store)].append(store)
        except StoreNotInProgramme:
            pass
    periods: dict[int, RunningPeriod] = {}
    for programme, members in by_programme.items():
        starts_at, ends_at = running_period_bounds(programme=programme, today=today)
        figures = period_store_figures(
            programme=programme, starts_at=starts_at, ends_at=ends_at, store_ids=[store.pk for store in members]
        )
        for store in members:
            periods[store.pk] = _running_period(figures.get(store.pk), starts_at, ends_at, today)
    return [StoreOverview(store, periods.get(store.pk), _terminals(store, now)) for store in stores]


def merchant_statements(*, merchant: Merchant) -> QuerySet[Statement]:
    """The merchant's statements that have been sent to it, newest period first."""
    return (
        Statement.objects.filter(merchant=merchant, status=Statement.Status.SENT)
        .select_related("period", "store", "file")
        .order_by("-period__ends_at", "store__code", "-pk")
    )
