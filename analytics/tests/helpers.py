"""Purchases, spends and voids on chosen days, as the till makes them (the ledger records them at
`timezone.now()`, which these helpers set), and the summaries refreshed as of a day."""

from __future__ import annotations

import contextlib
import datetime
import itertools
from unittest import mock

from analytics.services import analytics_refresh
from members.models import Member
from points.models import Entry
from points.services import points_void
from points.tests.factories import make_card
from till.services import till_spend
from till.tests.helpers import till_buy, till_terminal_of

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
# The tests' "today": every figure is of a day before or on it.
TODAY = datetime.date(2026, 6, 15)
_keys = itertools.count()


def noon(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TOKYO)


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


@contextlib.contextmanager
def on(day: datetime.date, hour: int = 12):
    """Everything inside happens (and is recorded) at that hour of the day, Tokyo time."""
    with mock.patch("django.utils.timezone.now", return_value=noon(day, hour)):
        yield


def buy(card, store, day: datetime.date, amount_yen: int = 1_000, hour: int = 12):
    with on(day, hour):
        return till_buy(card, store, amount_yen=amount_yen).lines[0].posting


def pay(card, store, day: datetime.date, points: int):
    """Points spent at the store's till."""
    with on(day):
        terminal = till_terminal_of(store)
        receipt = till_spend(
            terminal=terminal,
            card_type=card.card_type,
            number=card.number,
            points=points,
            idempotency_key=f"analytics-spend-{next(_keys)}",
        )
        return receipt.lines[0].posting


def void(entry: Entry, day: datetime.date):
    with on(day):
        return points_void(entry=entry, idempotency_key=f"analytics-void-{next(_keys)}")


def member_card(*, gender: str = "", birth_year: int | None = None, postal_code: str = "", registered=None):
    """A card whose member has these attributes (in clear, as registration leaves them)."""
    card = make_card()
    Member.objects.filter(pk=card.member_id).update(
        gender=gender,
        birth_year=birth_year,
        birth_month=1 if birth_year else None,
        postal_code=postal_code,
        registered_at=registered,
        status=Member.Status.ACTIVE if registered else Member.Status.UNREGISTERED,
    )
    card.member.refresh_from_db()
    return card


def refresh(day: datetime.date = TODAY, *, first_day: datetime.date | None = None):
    """The summaries as the schedule would have them at the end of `day`."""
    return analytics_refresh(first_day=first_day, now=noon(day, 23))


def today_is(day: datetime.date = TODAY):
    """Reports read "today" from the clock."""
    return mock.patch("django.utils.timezone.now", return_value=noon(day, 23))


def monthly_report_row(programme, merchant=None, *, year: int = 2026, month: int = 5):
    """A monthly report with small stand-in files, for tests of who may download it (none renders a PDF)."""
    from django.core.files.base import ContentFile

    from analytics.models import MonthlyReport

    report = MonthlyReport(
        programme=programme,
        merchant=merchant,
        year=year,
        month=month,
        first_day=datetime.date(year, month, 1),
        last_day=datetime.date(year, month, 28),
    )
    report.pdf.save(f"{report.filename}.pdf", ContentFile(b"%PDF-1.4 stand-in"), save=False)
    report.csv.save(f"{report.filename}.csv", ContentFile("\ufeff月次レポート\r\n".encode()), save=False)
    report.save()
    return report
