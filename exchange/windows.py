"""When the desk is open: the windows of the month under each rule, and the counters' hours within them.

A window is the open days of one month under one rule: the days first_day..last_day of the month (days
past the end of a short month dropped) that are weekdays, if the rule says so, and not Japanese national
holidays (substitute holidays and the "national holiday" between two holidays included), if it says so.
Holidays come from the `holidays` package. A window is known by its first open day (`start`): the
limits per window count by it.

Times are Tokyo times: a counter's hours are wall-clock times of the day in the current time zone.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import holidays
from django.utils import timezone

from exchange.models import Counter, CounterHours, WindowRule

# How far ahead the next window is looked for: a rule matches at least one day a year unless it can
# never match (31st of a month with holidays and weekends in the way every time).
HORIZON_MONTHS = 24


@dataclass(frozen=True)
class Window:
    rule: WindowRule
    start: datetime.date
    end: datetime.date
    days: list[datetime.date] = field(default_factory=list)


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def is_holiday(day: datetime.date) -> bool:
    return day in _holidays(day.year)


def window_days(rule: WindowRule, year: int, month: int) -> list[datetime.date]:
    """The open days of `rule` in one month, in order; empty when none passes."""
    last = min(rule.last_day, calendar.monthrange(year, month)[1])
    days = []
    for number in range(rule.first_day, last + 1):
        day = datetime.date(year, month, number)
        if rule.weekdays_only and day.weekday() >= 5:
            continue
        if rule.exclude_holidays and is_holiday(day):
            continue
        days.append(day)
    return days


def _rules(programme) -> list[WindowRule]:
    return list(WindowRule.objects.filter(programme=programme, is_active=True).order_by("first_day", "pk"))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    year, month = divmod(year * 12 + month - 1 + n, 12)
    return year, month + 1


def windows_from(programme, day: datetime.date, *, rules: list[WindowRule] | None = None) -> Iterator[Window]:
    """The programme's windows that have an open day on or after `day`, in order of their start.

    Windows of two rules that overlap are both given; the one starting first comes first.
    """
    rules = _rules(programme) if rules is None else rules
    if not rules:
        return
    for n in range(HORIZON_MONTHS + 1):
        year, month = _add_months(day.year, day.month, n)
        found = []
        for rule in rules:
            days = window_days(rule, year, month)
            if days and days[-1] >= day:
                found.append(Window(rule=rule, start=days[0], end=days[-1], days=days))
        yield from sorted(found, key=lambda window: (window.start, window.rule.first_day, window.rule.pk))


def window_on(programme, day: datetime.date) -> Window | None:
    """The window of which `day` is an open day, or None."""
    for window in windows_from(programme, day):
        if window.start > day:
            return None
        if day in window.days:
            return window
    return None


def current_or_next_window(programme, day: datetime.date) -> Window | None:
    """The window `day` is in (or within the span of, on a closed day), else the next one."""
    return next(windows_from(programme, day), None)


def _hours_by_weekday(counter: Counter) -> dict[int, list[tuple[datetime.time, datetime.time]]]:
    hours: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for row in CounterHours.objects.filter(counter=counter).order_by("weekday", "opens"):
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    return hours


def is_open(counter: Counter, at: datetime.datetime | None = None) -> bool:
    """Whether the counter takes exchanges at `at`: active, on an open day of a window, within its hours."""
    at = timezone.localtime(at or timezone.now())
    if not counter.is_active or window_on(counter.programme_id, at.date()) is None:
        return False
    return any(opens <= at.time() < closes for opens, closes in _hours_by_weekday(counter).get(at.weekday(), []))


def _aware(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _next_opening_of(hours, windows: list[Window], at: datetime.datetime) -> datetime.datetime | None:
    for window in windows:
        for day in window.days:
            if day < at.date():
                continue
            for opens, closes in hours.get(day.weekday(), []):
                if day > at.date():
                    return _aware(day, opens)
                if at.time() < closes:
                    return max(at, _aware(day, opens))
    return None


def next_opening(programme, counter: Counter | None, at: datetime.datetime | None = None) -> datetime.datetime | None:
    """The next moment `counter` (or, given None, any active counter of the programme) is open within a
    window: `at` itself when it is open now; None when no window lies ahead."""
    at = timezone.localtime(at or timezone.now())
    windows = list(windows_from(programme, at.date()))
    if not windows:
        return None
    if counter is not None:
        counters = [counter] if counter.is_active else []
    else:
        counters = list(Counter.objects.filter(programme=programme, is_active=True))
    openings = [
        found for found in (_next_opening_of(_hours_by_weekday(c), windows, at) for c in counters) if found is not None
    ]
    return min(openings) if openings else None


def last_collection_day(counter: Counter, window: Window) -> datetime.date | None:
    """The last open day of the window on which the counter has hours."""
    hours = _hours_by_weekday(counter)
    open_days = [day for day in window.days if day.weekday() in hours]
    return open_days[-1] if open_days else None
