"""The desk's reads: limits left, open reservations, the catalogue, the desk report and the monthly cost."""

import datetime

import pytest

from exchange.models import Exchange
from exchange.selectors import catalogue, desk_report, limits_left, member_reservations, monthly_cost
from exchange.services import exchange_cancel, exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, stock, tokyo

pytestmark = pytest.mark.django_db

_keys = iter(range(1, 10_000))


def exchange(member, counter, *lines, staff, at=OPEN, **kwargs):
    return exchange_create(
        member=member,
        counter=counter,
        lines=list(lines),
        staff=staff,
        idempotency_key=f"k{next(_keys)}",
        at=at,
        **kwargs,
    )


def test_limits_left_for_a_member(counter, item, rich_member, staff):
    item.limit_per_member_window, item.limit_per_member_year, item.first_come_per_window = 2, 5, 4
    item.save()
    exchange(rich_member, counter, (item, 1), staff=staff)
    item.refresh_from_db()

    assert limits_left(rich_member, item, OPEN) == {"window": 1, "year": 4, "stock": 9, "first_come": 3}
    # In the next window the window's limit and first-come start afresh; the year's does not.
    assert limits_left(rich_member, item, tokyo(2026, 6, 20, 10)) == {
        "window": 2,
        "year": 4,
        "stock": 9,
        "first_come": 4,
    }


def test_limits_left_without_limits_is_only_the_stock(item, rich_member):
    assert limits_left(rich_member, item, OPEN) == {"window": None, "year": None, "stock": 10, "first_come": None}


def test_member_reservations_lists_only_open_reservations(counter, item, rich_member, staff):
    reserved = exchange(rich_member, counter, (item, 1), staff=staff, reserve=True)
    exchange(rich_member, counter, (item, 1), staff=staff)

    assert list(member_reservations(rich_member)) == [reserved]


def test_the_catalogue_shows_active_items_with_stock_and_the_next_opening(counter, item, programme):
    old = ItemFactory(programme=programme, active_until=datetime.date(2026, 5, 31))
    bank = CounterFactory(programme=programme, name="信用金庫", weekdays=[3])
    ticket = stock(ItemFactory(programme=programme, name="チケット", first_come_per_window=20), 40)
    ticket.counters.set([bank])

    entries = {entry.item: entry for entry in catalogue(programme, tokyo(2026, 6, 1, 18))}

    assert old not in entries
    assert (entries[item].stock, entries[item].next_opening) == (10, tokyo(2026, 6, 2, 9))
    assert entries[item].counters == [counter, bank]
    # The ticket is collected only at the bank, open on Thursdays.
    assert (entries[ticket].next_opening, entries[ticket].first_come_left) == (tokyo(2026, 6, 4, 9), 20)


def test_the_desk_report_by_counter_and_item(counter, item, rich_member, staff, programme):
    bank = CounterFactory(programme=programme, name="信用金庫")
    bag = stock(ItemFactory(programme=programme, name="買い物袋", face_value_yen=0, price_points=1_000), 5)
    exchange(rich_member, counter, (item, 2), (bag, 1), staff=staff)
    exchange(rich_member, bank, (item, 1), staff=staff)
    cancelled = exchange(rich_member, counter, (item, 1), staff=staff)
    exchange_cancel(exchange=cancelled, staff=staff, reason="取消")
    Exchange.objects.filter(pk=cancelled.pk).update(cancelled_at=tokyo(2026, 6, 1, 16))
    # Another day, and a reservation not yet handed over: not in the report.
    exchange(rich_member, counter, (bag, 1), staff=staff, at=tokyo(2026, 6, 2, 10))
    exchange(rich_member, counter, (bag, 1), staff=staff, reserve=True)

    report = desk_report(datetime.date(2026, 6, 1))

    rows = [(row.counter.name, row.item.name, row.figures.quantity, row.figures.points) for row in report.rows]
    assert rows == [
        ("事務局窓口", "おこめ券", 3, 8_100),
        ("事務局窓口", "買い物袋", 1, 1_000),
        ("信用金庫", "おこめ券", 1, 2_700),
    ]
    assert (report.total.quantity, report.total.points, report.total.face_value_yen) == (5, 11_800, 12_000)
    office = report.by_counter[counter]
    assert (office.exchanges, office.face_value_yen) == (3, 9_000)
    # The cancelled one was handed over, then came back the same day.
    assert (report.total.cancelled_quantity, report.total.net_quantity, report.total.net_face_value_yen) == (
        1,
        4,
        9_000,
    )
    assert [row.counter for row in desk_report(datetime.date(2026, 6, 1), bank).rows] == [bank]


def test_the_monthly_cost_is_the_face_value_handed_over_net_of_cancellations(counter, item, rich_member, staff):
    june_exchange = exchange(rich_member, counter, (item, 2), staff=staff)
    exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 7, 1, 10))
    # Cancelled in July: June's figures stand, July's are reduced.
    exchange_cancel(exchange=june_exchange, staff=staff, reason="取消")
    Exchange.objects.filter(pk=june_exchange.pk).update(cancelled_at=tokyo(2026, 7, 2, 10))

    june = monthly_cost(item.programme, 2026, 6)
    july = monthly_cost(item.programme, 2026, 7)

    assert [(row.item, row.figures.net_quantity, row.figures.net_face_value_yen) for row in june.rows] == [
        (item, 2, 6_000)
    ]
    assert june.total.net_points == 5_400
    assert (july.total.quantity, july.total.cancelled_quantity, july.total.net_face_value_yen) == (1, 2, -3_000)
    assert monthly_cost(item.programme, 2026, 12).rows == []
