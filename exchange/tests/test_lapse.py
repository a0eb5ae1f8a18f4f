"""Reservations: taken by phone at any time, collected within the window, and lapsed by the nightly task
when not collected, giving points and stock back."""

import datetime

import pytest
from django_q.models import Schedule

from exchange import errors
from exchange.models import Exchange, StockMove
from exchange.services import exchange_collect, exchange_create, exchange_lapse_due, stock_in_ledger
from exchange.tasks import lapse_reservations
from exchange.tests.factories import CounterFactory, tokyo
from points.models import Account, Entry
from points.verification import ledger_problems
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

# Saturday 6 June 2026, within the span of the 1-10 June window but a closed day.
SATURDAY = tokyo(2026, 6, 6, 11)


def reserve(member, counter, item, staff, quantity=1, at=SATURDAY, key="phone-1"):
    return exchange_create(
        member=member,
        counter=counter,
        lines=[(item, quantity)],
        staff=staff,
        idempotency_key=key,
        at=at,
        reserve=True,
    )


def balance(member, programme) -> int:
    return Account.objects.get(member=member, programme=programme).balance


def test_a_reservation_by_phone_on_a_closed_day_holds_stock_and_points(counter, item, rich_member, staff, programme):
    reserved = reserve(rich_member, counter, item, staff, quantity=2)

    assert reserved.status == Exchange.Status.RESERVED
    assert (reserved.window_start, reserved.collect_by) == (datetime.date(2026, 6, 1), datetime.date(2026, 6, 10))
    assert reserved.handed_over_at is None
    assert balance(rich_member, programme) == 20_000 - 5_400
    item.refresh_from_db()
    assert item.stock_on_hand == 8
    assert list(reserved.stock_moves.values_list("kind", "quantity")) == [(StockMove.Kind.RESERVED, -2)]


def test_a_reservation_after_the_window_is_collected_in_the_next_one(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff, at=tokyo(2026, 6, 20, 15))

    # July 2026: the 1st is a Wednesday, the 10th a Friday.
    assert (reserved.window_start, reserved.collect_by) == (datetime.date(2026, 7, 1), datetime.date(2026, 7, 10))


def test_collect_by_is_the_last_day_the_counter_is_open_in_the_window(programme, rule, item, rich_member, staff):
    # Open on Tuesdays and Thursdays only: the last such window day in June 2026 is Tuesday the 9th.
    bank = CounterFactory(programme=programme, weekdays=[1, 3])

    assert reserve(rich_member, bank, item, staff).collect_by == datetime.date(2026, 6, 9)


def test_a_reservation_is_collected_within_the_window(counter, item, rich_member, staff, programme):
    reserved = reserve(rich_member, counter, item, staff, quantity=2)
    at = tokyo(2026, 6, 8, 14)

    collected = exchange_collect(exchange=reserved, staff=staff, at=at)

    assert (collected.status, collected.handed_over_at) == (Exchange.Status.HANDED_OVER, at)
    item.refresh_from_db()
    assert item.stock_on_hand == 8
    assert sorted(collected.stock_moves.values_list("kind", "quantity")) == [
        (StockMove.Kind.HANDED_OVER, -2),
        (StockMove.Kind.RELEASED, 2),
        (StockMove.Kind.RESERVED, -2),
    ]
    assert item.stock_on_hand == stock_in_ledger(item)
    # The points were taken when reserving, once.
    assert balance(rich_member, programme) == 20_000 - 5_400
    assert Entry.objects.filter(kind=Entry.Kind.EXCHANGE).count() == 1


def test_a_reservation_cannot_be_collected_outside_the_window(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff)

    with pytest.raises(errors.OutsideWindow) as refused:
        exchange_collect(exchange=reserved, staff=staff, at=tokyo(2026, 6, 7, 10))

    assert refused.value.next_opening == tokyo(2026, 6, 8, 9)
    reserved.refresh_from_db()
    assert reserved.status == Exchange.Status.RESERVED


def test_a_reservation_past_its_last_day_cannot_be_collected_without_an_override(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff)
    late = tokyo(2026, 7, 1, 10)

    with pytest.raises(errors.ReservationExpired):
        exchange_collect(exchange=reserved, staff=staff, at=late)
    with pytest.raises(errors.OverrideNotAllowed):
        exchange_collect(exchange=reserved, staff=StaffFactory(username="arbeit"), at=late, override_reason="遅延")

    collected = exchange_collect(exchange=reserved, staff=staff, at=late, override_reason="台風で来られなかったため")
    assert (collected.status, collected.override_reason) == (Exchange.Status.HANDED_OVER, "台風で来られなかったため")


def test_a_collected_reservation_cannot_be_collected_again(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff)
    exchange_collect(exchange=reserved, staff=staff, at=tokyo(2026, 6, 8, 10))

    with pytest.raises(errors.WrongStatus):
        exchange_collect(exchange=reserved, staff=staff, at=tokyo(2026, 6, 8, 11))


def test_the_lapse_is_scheduled_nightly():
    schedule = Schedule.objects.get(func="exchange.tasks.lapse_reservations")

    assert (schedule.schedule_type, schedule.repeats) == (Schedule.DAILY, -1)


def test_the_nightly_task_lapses_an_uncollected_reservation_and_gives_everything_back(
    counter, item, rich_member, staff, programme, monkeypatch
):
    reserved = reserve(rich_member, counter, item, staff, quantity=2)
    # The night after the last day to collect.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: datetime.date(2026, 6, 11))

    assert lapse_reservations() == "lapsed 1 reservations"

    reserved.refresh_from_db()
    assert reserved.status == Exchange.Status.LAPSED
    assert reserved.lapsed_at is not None
    assert (reserved.return_entry.kind, reserved.return_entry.points) == (Entry.Kind.VOID, 5_400)
    assert balance(rich_member, programme) == 20_000
    item.refresh_from_db()
    assert item.stock_on_hand == 10 == stock_in_ledger(item)
    assert sorted(reserved.stock_moves.values_list("kind", "quantity")) == [
        (StockMove.Kind.RELEASED, 2),
        (StockMove.Kind.RESERVED, -2),
    ]
    assert ledger_problems(deep=True) == []
    # Twice is once.
    assert lapse_reservations() == "lapsed 0 reservations"


def test_a_reservation_does_not_lapse_on_its_last_day(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff)

    assert exchange_lapse_due(today=datetime.date(2026, 6, 10)) == 0

    reserved.refresh_from_db()
    assert reserved.status == Exchange.Status.RESERVED


def test_a_collected_reservation_does_not_lapse(counter, item, rich_member, staff):
    reserved = reserve(rich_member, counter, item, staff)
    exchange_collect(exchange=reserved, staff=staff, at=tokyo(2026, 6, 8, 10))

    assert exchange_lapse_due(today=datetime.date(2026, 7, 1)) == 0
    reserved.refresh_from_db()
    assert reserved.status == Exchange.Status.HANDED_OVER
