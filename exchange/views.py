"""The public catalogue at /exchange/: no login, readable on a phone, in Japanese by default.

It shows, per programme, the items members can exchange (price in points, face value, whether any are
left, the limits), where they are collected, and when: the current or next exchange window and the
counters' opening hours. Nothing personal and nothing of the desk is shown here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from exchange import selectors, windows
from exchange.models import Counter, CounterHours, Item
from points.models import Programme

# At or below this many left, the page says "few left" rather than "in stock".
FEW_LEFT = 5


def catalogue_now() -> datetime.datetime:
    """The page's clock; one place for tests to set it."""
    return timezone.now()


@dataclass(frozen=True)
class StockState:
    code: str
    label: str


def stock_state(available: int) -> StockState:
    if available <= 0:
        return StockState("out", _("Out of stock"))
    if available <= FEW_LEFT:
        return StockState("few", _("Few left"))
    return StockState("in", _("In stock"))


def limits_lines(item: Item) -> list[str]:
    lines = []
    if item.limit_per_member_window:
        lines.append(_("Up to %(n)s per person per exchange window") % {"n": item.limit_per_member_window})
    if item.limit_per_member_year:
        lines.append(_("Up to %(n)s per person per year") % {"n": item.limit_per_member_year})
    if item.first_come_per_window:
        lines.append(_("First come, first served: %(n)s per exchange window") % {"n": item.first_come_per_window})
    return lines


def hours_lines(counter: Counter) -> list[dict]:
    """Each weekday with its hours, or closed; consecutive rows of one weekday are joined."""
    by_day: dict[int, list[CounterHours]] = {}
    for row in counter.hours.all():
        by_day.setdefault(row.weekday, []).append(row)
    return [
        {
            "weekday": WEEKDAYS[day],
            "hours": ", ".join(f"{row.opens:%H:%M}–{row.closes:%H:%M}" for row in by_day.get(day, [])),
        }
        for day in range(7)
    ]


def _programme_section(programme: Programme, at: datetime.datetime) -> dict | None:
    counters = list(
        Counter.objects.filter(programme=programme, is_active=True).prefetch_related("hours").order_by("position", "pk")
    )
    entries = selectors.catalogue(programme, at)
    if not counters and not entries:
        return None
    today = timezone.localtime(at).date()
    window = windows.current_or_next_window(programme, today)
    openings = [entry.next_opening for entry in entries if entry.next_opening is not None]
    if not openings:
        openings = [found for found in [windows.next_opening(programme, None, at)] if found is not None]
    next_open = min(openings) if openings else None
    items = []
    for entry in entries:
        available = entry.stock if entry.first_come_left is None else min(entry.stock, entry.first_come_left)
        items.append(
            {
                "item": entry.item,
                "state": stock_state(available),
                "limits": limits_lines(entry.item),
                "counters": entry.counters,
                "every_counter": not entry.item.counters.all(),
            }
        )
    return {
        "programme": programme,
        "window": window,
        "window_now": window is not None and window.start <= today,
        "open_now": next_open is not None and next_open <= at,
        "next_opening": next_open,
        "items": items,
        "counters": [{"counter": counter, "hours": hours_lines(counter)} for counter in counters],
    }


@require_safe
@cache_control(max_age=60)
def catalogue(request, code: str | None = None):
    programmes = Programme.objects.filter(is_active=True).order_by("code")
    if code is not None:
        programmes = programmes.filter(code=code)
    at = catalogue_now()
    sections = [section for section in (_programme_section(p, at) for p in programmes) if section]
    if code is not None and not sections:
        raise Http404
    return render(request, "exchange/catalogue.html", {"sections": sections, "now": at})
