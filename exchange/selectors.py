"""Reads of the exchange desk: what a member may still take, their open reservations, the catalogue as the
public page shows it, the daily desk report and the monthly cost of the exchange.

Reports count goods by when they changed hands: handed over on the day (`handed_over_at`), and, apart,
cancellations of handed-over exchanges on the day (`cancelled_at`), whose goods came back. Net figures are
the first less the second. Points are those of the goods (the lines' snapshots), which is what the
member's points bought.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Sum
from django.utils import timezone

from exchange import windows
from exchange.models import Counter, Exchange, ExchangeLine, Item
from exchange.services import counted_quantities
from stores.selectors import local_day_bounds, local_midnight

# --- the desk -------------------------------------------------------------------------------


def counting_window_start(programme, day: datetime.date) -> datetime.date:
    """The window an exchange made on `day` counts in: the current one, else the next (as the desk does)."""
    window = windows.current_or_next_window(programme, day)
    return window.start if window is not None else day


def limits_left(member, item: Item, at: datetime.datetime | None = None) -> dict:
    """How many of `item` the member may still take at `at`: per window and per year of their limits (None
    where the item has no such limit), in stock, and first-come in the window (None: no cap)."""
    day = timezone.localtime(at or timezone.now()).date()
    window_start = counting_window_start(item.programme_id, day)
    left = {"window": None, "year": None, "stock": item.stock_on_hand, "first_come": None}
    if item.limit_per_member_window is not None:
        taken = counted_quantities(items=[item], window_start=window_start, member=member).get(item.pk, 0)
        left["window"] = max(item.limit_per_member_window - taken, 0)
    if item.limit_per_member_year is not None:
        taken = counted_quantities(items=[item], window_start=window_start, member=member, year=window_start.year)
        left["year"] = max(item.limit_per_member_year - taken.get(item.pk, 0), 0)
    if item.first_come_per_window is not None:
        taken = counted_quantities(items=[item], window_start=window_start).get(item.pk, 0)
        left["first_come"] = max(item.first_come_per_window - taken, 0)
    return left


def member_reservations(member, *, programme_ids: Collection[int] | None = None):
    """The member's open reservations (in the programmes named, or all), soonest to lapse first, with their lines
    and items."""
    return (
        _of_programmes(Exchange.objects.filter(member=member, status=Exchange.Status.RESERVED), programme_ids)
        .select_related("counter")
        .prefetch_related(Prefetch("lines", queryset=ExchangeLine.objects.select_related("item")))
        .order_by("collect_by", "pk")
    )


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    item: Item
    stock: int
    # The next moment one of the counters where it can be collected is open within a window.
    next_opening: datetime.datetime | None
    counters: list[Counter]
    # How many more can be handed over in the window that counts now (None: no first-come cap).
    first_come_left: int | None = None


def catalogue(programme, at: datetime.datetime | None = None) -> list[CatalogueEntry]:
    """The items active on the day of `at`, in catalogue order, with their stock and next opening."""
    at = at or timezone.now()
    day = timezone.localtime(at).date()
    items = [
        item
        for item in Item.objects.filter(programme=programme, is_active=True).prefetch_related("counters")
        if item.is_active_on(day)
    ]
    active_counters = list(Counter.objects.filter(programme=programme, is_active=True))
    opening = {counter.pk: windows.next_opening(programme, counter, at) for counter in active_counters}
    capped = [item for item in items if item.first_come_per_window is not None]
    taken = counted_quantities(items=capped, window_start=counting_window_start(programme, day)) if capped else {}
    entries = []
    for item in items:
        chosen = list(item.counters.all())
        counters = [c for c in active_counters if not chosen or c.pk in {x.pk for x in chosen}]
        times = [opening[c.pk] for c in counters if opening[c.pk] is not None]
        entries.append(
            CatalogueEntry(
                item=item,
                stock=item.stock_on_hand,
                next_opening=min(times) if times else None,
                counters=counters,
                first_come_left=(
                    max(item.first_come_per_window - taken.get(item.pk, 0), 0)
                    if item.first_come_per_window is not None
                    else None
                ),
            )
        )
    return entries


# --- reports --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Goods handed over, and goods of handed-over exchanges cancelled (returned), with their points and
    face value."""

    quantity: int = 0
    points: int = 0
    face_value_yen: int = 0
    exchanges: int = 0
    cancelled_quantity: int = 0
    cancelled_points: int = 0
    cancelled_face_value_yen: int = 0

    @property
    def net_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity

    @property
    def net_points(self) -> int:
        return self.points - self.cancelled_points

    @property
    def net_face_value_yen(self) -> int:
        return self.face_value_yen - self.cancelled_face_value_yen

    def add(self, other: Figures) -> None:
        for name in (
            "quantity",
            "points",
            "face_value_yen",
            "exchanges",
            "cancelled_quantity",
            "cancelled_points",
            "cancelled_face_value_yen",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ReportRow:
    item: Item
    figures: Figures
    counter: Counter | None = None


@dataclass
class DeskReport:
    day: datetime.date
    counter: Counter | None
    # By counter, then item (catalogue order).
    rows: list[ReportRow] = field(default_factory=list)
    # Counter -> its totals, in counter order.
    by_counter: dict[Counter, Figures] = field(default_factory=dict)
    total: Figures = field(default_factory=Figures)


@dataclass
class MonthlyCost:
    programme: object
    year: int
    month: int
    rows: list[ReportRow] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)


def _figures(lines, starts_at, ends_at) -> dict[tuple[int, int], Figures]:
    """Figures per (counter pk, item pk) for exchange lines handed over or cancelled in [starts_at, ends_at)."""
    found: dict[tuple[int, int], Figures] = defaultdict(Figures)
    handed = (
        lines.filter(exchange__handed_over_at__gte=starts_at, exchange__handed_over_at__lt=ends_at)
        .values("exchange__counter_id", "item_id")
        .annotate(
            q=Sum("quantity"),
            p=Sum(F("quantity") * F("unit_points")),
            y=Sum(F("quantity") * F("unit_face_value_yen")),
            n=Count("id"),
        )
        .order_by()
    )
    for row in handed:
        figures = found[(row["exchange__counter_id"], row["item_id"])]
        figures.quantity, figures.points, figures.face_value_yen = row["q"], row["p"], row["y"]
        # An exchange has one line per item: lines are exchanges.
        figures.exchanges = row["n"]
    cancelled = (
        lines.filter(
            exchange__status=Exchange.Status.CANCELLED,
            exchange__handed_over_at__isnull=False,
            exchange__cancelled_at__gte=starts_at,
            exchange__cancelled_at__lt=ends_at,
        )
        .values("exchange__counter_id", "item_id")
        .annotate(
            q=Sum("quantity"),
            p=Sum(F("quantity") * F("unit_points")),
            y=Sum(F("quantity") * F("unit_face_value_yen")),
        )
        .order_by()
    )
    for row in cancelled:
        figures = found[(row["exchange__counter_id"], row["item_id"])]
        figures.cancelled_quantity, figures.cancelled_points, figures.cancelled_face_value_yen = (
            row["q"],
            row["p"],
            row["y"],
        )
    return found


def desk_report(
    day: datetime.date,
    counter: Counter | None = None,
    *,
    programme=None,
    programme_ids: Collection[int] | None = None,
) -> DeskReport:
    """The day's desk report: goods handed over (and returned by cancellations) by counter and item, with
    points and face value, the counters' totals and the day's total (of the programmes named, or all)."""
    lines = ExchangeLine.objects.all()
    if counter is not None:
        lines = lines.filter(exchange__counter=counter)
    if programme is not None:
        lines = lines.filter(exchange__programme=programme)
    if programme_ids is not None:
        lines = lines.filter(exchange__programme_id__in=programme_ids)
    found = _figures(lines, *local_day_bounds(day))
    counters = Counter.objects.in_bulk({key[0] for key in found})
    items = Item.objects.in_bulk({key[1] for key in found})
    report = DeskReport(day=day, counter=counter)
    keys = sorted(
        found,
        key=lambda key: (
            counters[key[0]].position,
            key[0],
            items[key[1]].position,
            key[1],
        ),
    )
    for key in keys:
        figures = found[key]
        row = ReportRow(counter=counters[key[0]], item=items[key[1]], figures=figures)
        report.rows.append(row)
        report.by_counter.setdefault(row.counter, Figures()).add(figures)
        report.total.add(figures)
    return report


def monthly_cost(programme, year: int, month: int) -> MonthlyCost:
    """The month's exchange cost for the secretariat's accounts: per item, the goods handed over in the
    month less those returned by cancellations in the month, their face value (the cost) and points."""
    first = datetime.date(year, month, 1)
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    found = _figures(
        ExchangeLine.objects.filter(exchange__programme=programme), local_midnight(first), local_midnight(following)
    )
    per_item: dict[int, Figures] = defaultdict(Figures)
    for (_counter_id, item_id), figures in found.items():
        per_item[item_id].add(figures)
    items = Item.objects.in_bulk(per_item)
    report = MonthlyCost(programme=programme, year=year, month=month)
    for item_id in sorted(per_item, key=lambda pk: (items[pk].position, pk)):
        report.rows.append(ReportRow(item=items[item_id], figures=per_item[item_id]))
        report.total.add(per_item[item_id])
    return report


__all__ = [
    "CatalogueEntry",
    "DeskReport",
    "Figures",
    "MonthlyCost",
    "ReportRow",
    "catalogue",
    "counting_window_start",
    "desk_report",
    "limits_left",
    "member_reservations",
    "monthly_cost",
]


# --- the member page ------------------------------------------------------------------------


def member_exchanges(member, *, limit: int = 10, programme_ids: Collection[int] | None = None):
    """The member's latest exchanges (in the programmes named, or all) other than open reservations
    (`member_reservations` lists those), newest first, with their lines and items."""
    return (
        _of_programmes(Exchange.objects.filter(member=member), programme_ids)
        .exclude(status=Exchange.Status.RESERVED)
        .select_related("counter")
        .prefetch_related(Prefetch("lines", queryset=ExchangeLine.objects.select_related("item")))
        .order_by("-created_at", "-pk")[:limit]
    )


def _of_programmes(exchanges, programme_ids: Collection[int] | None):
    return exchanges if programme_ids is None else exchanges.filter(programme_id__in=programme_ids)
