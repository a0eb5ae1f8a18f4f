"""Billing periods and due dates, in the programme's time zone (Asia/Tokyo). Periods are half-open."""

from __future__ import annotations

import calendar
import datetime

from django.utils import timezone


def _month_day(year: int, month: int, day: int) -> datetime.date:
    """`day` of the month, 0 (or past the month's end) meaning its last day."""
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, last if day == 0 or day > last else day)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    year, index = divmod(year * 12 + month - 1 + months, 12)
    return year, index + 1


def period_dates(*, year: int, month: int, closing_day: int) -> tuple[datetime.date, datetime.date]:
    """First day and the day after the last of the period named `year-month` (the month it closes in).

    Closing on the 20th, "2026-10" runs from 21 September to 20 October.
    """
    last = _month_day(year, month, closing_day)
    previous = _month_day(*_add_months(year, month, -1), closing_day)
    return previous + datetime.timedelta(days=1), last + datetime.timedelta(days=1)


def period_bounds(*, year: int, month: int, closing_day: int) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the period as aware datetimes at local midnight."""
    first, after = period_dates(year=year, month=month, closing_day=closing_day)
    zone = timezone.get_default_timezone()
    return (
        datetime.datetime.combine(first, datetime.time(), tzinfo=zone),
        datetime.datetime.combine(after, datetime.time(), tzinfo=zone),
    )


def period_containing(day: datetime.date, *, closing_day: int) -> tuple[int, int]:
    """The (year, month) of the period that contains `day`."""
    if closing_day and day.day > closing_day:
        return _add_months(day.year, day.month, 1)
    return day.year, day.month


def due_date(*, year: int, month: int, due_months: int, due_day: int) -> datetime.date:
    """Payment terms such as 翌月末 (1 month after, day 0 = month end)."""
    return _month_day(*_add_months(year, month, due_months), due_day)


def parse_period(text: str) -> tuple[int, int]:
    """ "2026-10" → (2026, 10); ValueError otherwise."""
    year, sep, month = text.strip().partition("-")
    if not sep or not year.isdigit() or not month.isdigit() or not 1 <= int(month) <= 12 or len(year) != 4:
        raise ValueError(text)
    return int(year), int(month)
