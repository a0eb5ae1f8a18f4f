"""The desk's services: exchanging, the limits, the window and its override, idempotency, cancellation
and stock."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from audit.models import AuditEvent
from exchange import errors
from exchange.models import Exchange, ExchangeSequence, StockMove
from exchange.services import (
    exchange_cancel,
    exchange_create,
    stock_in_ledger,
    stock_receive,
    stock_write_off,
)
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, give_points, stock, tokyo
from members.tests.factories import MemberFactory
from points.errors import InsufficientPoints, LedgerError
from points.models import Account, Entry, Lot
from points.verification import ledger_problems
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

# Wednesday 1 July 2026, 10:00: the next month's window.
NEXT_WINDOW = tokyo(2026, 7, 1, 10)
_keys = iter(range(1, 10_000))


def exchange(member, counter, *lines, staff, at=OPEN, key=None, **kwargs):
    return exchange_create(
        member=member,
        counter=counter,
        lines=list(lines),
        staff=staff,
        idempotency_key=key or f"desk-{next(_keys)}",
        at=at,
        **kwargs,
    )


def balance(member, programme) -> int:
    return Account.objects.get(member=member, programme=programme).balance


def stock_ties_out(item) -> bool:
    item.refresh_from_db()
    return item.stock_on_hand == stock_in_ledger(item)


# --- exchanging ---------------------------------------------------------------------------


def test_an_exchange_takes_points_and_stock_in_one_go(counter, item, rich_member, staff, programme):
    done = exchange(rich_member, counter, (item, 2), staff=staff)

    assert (done.status, done.serial, done.points, done.face_value_yen) == (
        Exchange.Status.HANDED_OVER,
        "EX-2026-000001",
        5_400,
        6_000,
    )
    assert (done.window_start, done.handed_over_at, done.collect_by) == (datetime.date(2026, 6, 1), OPEN, None)
    assert (done.entry.kind, done.entry.points, done.entry.staff) == (Entry.Kind.EXCHANGE, -5_400, staff)
    assert balance(rich_member, programme) == 20_000 - 5_400
    line = done.lines.get()
    assert (line.item, line.quantity, line.unit_points, line.unit_face_value_yen) == (item, 2, 2_700, 3_000)
    item.refresh_from_db()
    assert item.stock_on_hand == 8
    assert list(done.stock_moves.values_list("kind", "quantity")) == [(StockMove.Kind.HANDED_OVER, -2)]
    assert stock_ties_out(item)
    assert AuditEvent.objects.filter(object_type="exchange.Exchange", object_id=str(done.pk)).exists()
    assert ledger_problems(deep=True) == []


def test_the_price_is_kept_on_the_line_when_the_catalogue_changes(counter, item, rich_member, staff):
    done = exchange(rich_member, counter, (item, 1), staff=staff)
    item.price_points = 3_000
    item.save()

    assert done.lines.get().unit_points == 2_700


def test_serials_are_gapless_per_year_and_a_refusal_uses_none(counter, item, rich_member, staff):
    first = exchange(rich_member, counter, (item, 1), staff=staff)
    with pytest.raises(errors.OutOfStock):
        exchange(rich_member, counter, (item, 100), staff=staff)
    second = exchange(rich_member, counter, (item, 1), staff=staff)
    next_year = exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2027, 2, 1, 10))

    assert [first.serial, second.serial, next_year.serial] == ["EX-2026-000001", "EX-2026-000002", "EX-2027-000001"]
    assert ExchangeSequence.objects.get(year=2026).last_number == 2


def test_several_items_in_one_exchange(counter, item, rich_member, staff, programme):
    bag = stock(ItemFactory(programme=programme, name="買い物袋", face_value_yen=0, price_points=1_000), 3)

    done = exchange(rich_member, counter, (item, 1), (bag, 2), (item, 1), staff=staff)

    assert (done.points, done.face_value_yen) == (2 * 2_700 + 2 * 1_000, 6_000)
    assert sorted(done.lines.values_list("item__name", "quantity")) == [("おこめ券", 2), ("買い物袋", 2)]


@pytest.mark.parametrize("lines", [[], [("item", 0)], [("item", -1)], [("item", 1.5)]])
def test_an_empty_or_odd_order_is_refused(counter, item, rich_member, staff, lines):
    with pytest.raises(errors.InvalidRequest):
        exchange(rich_member, counter, *[(item, q) for _, q in lines], staff=staff)


def test_the_same_key_again_returns_the_first_exchange_unchanged(counter, item, rich_member, staff, programme):
    first = exchange(rich_member, counter, (item, 1), staff=staff, key="desk-double-click")

    again = exchange(rich_member, counter, (item, 3), staff=staff, key="desk-double-click")

    assert again.pk == first.pk
    assert Exchange.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.EXCHANGE).count() == 1
    assert balance(rich_member, programme) == 20_000 - 2_700
    item.refresh_from_db()
    assert item.stock_on_hand == 9


def test_not_enough_points_leaves_nothing_written(counter, item, member, staff, programme):
    give_points(member, programme, 2_000)
    entries, moves, events = Entry.objects.count(), StockMove.objects.count(), AuditEvent.objects.count()

    with pytest.raises(InsufficientPoints):
        exchange(member, counter, (item, 1), staff=staff)

    assert (Entry.objects.count(), StockMove.objects.count(), AuditEvent.objects.count()) == (entries, moves, events)
    assert not Exchange.objects.exists()
    assert not ExchangeSequence.objects.filter(last_number__gt=0).exists()
    assert balance(member, programme) == 2_000
    item.refresh_from_db()
    assert item.stock_on_hand == 10


def test_a_suspended_member_cannot_exchange(counter, item, programme, staff):
    suspended = MemberFactory(status="suspended")
    give_points(suspended, programme, 5_000)

    with pytest.raises(LedgerError) as refused:
        exchange(suspended, counter, (item, 1), staff=staff)

    assert refused.value.code == "member_suspended"
    assert not Exchange.objects.exists()


# --- the window ---------------------------------------------------------------------------


def test_outside_a_window_the_desk_refuses_and_says_when_it_opens(counter, item, rich_member, staff):
    with pytest.raises(errors.OutsideWindow) as refused:
        exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 5, 6, 10))

    assert refused.value.code == "outside_window"
    assert refused.value.next_opening == tokyo(2026, 5, 7, 9)
    assert "2026" in str(refused.value)
    assert not Exchange.objects.exists()


def test_outside_the_counters_hours_the_desk_refuses(counter, item, rich_member, staff):
    with pytest.raises(errors.OutsideWindow) as refused:
        exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 6, 1, 17, 30))

    assert refused.value.next_opening == tokyo(2026, 6, 2, 9)


def test_staff_with_the_permission_can_override_the_window_with_a_reason(counter, item, rich_member, staff):
    done = exchange(
        rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 6, 20, 10), override_reason="入院中のため特例"
    )

    assert done.status == Exchange.Status.HANDED_OVER
    assert done.override_reason == "入院中のため特例"
    # Outside a window, an exchange counts in the next one.
    assert done.window_start == datetime.date(2026, 7, 1)


def test_staff_without_the_permission_cannot_override(counter, item, rich_member, programme):
    clerk = StaffFactory(username="arbeit")

    with pytest.raises(errors.OverrideNotAllowed):
        exchange(rich_member, counter, (item, 1), staff=clerk, at=tokyo(2026, 6, 20, 10), override_reason="急ぎ")

    assert not Exchange.objects.exists()
    assert balance(rich_member, programme) == 20_000


def test_an_override_needs_a_reason(counter, item, rich_member, staff):
    with pytest.raises(errors.OutsideWindow):
        exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 6, 20, 10), override_reason="  ")


def test_a_reason_given_inside_a_window_is_not_recorded_as_an_override(counter, item, rich_member, staff):
    done = exchange(rich_member, counter, (item, 1), staff=staff, override_reason="念のため")

    assert done.override_reason == ""


# --- items --------------------------------------------------------------------------------


def test_an_item_only_collectable_elsewhere_is_refused(counter, item, rich_member, staff, programme):
    bank = CounterFactory(programme=programme, name="信用金庫")
    item.counters.set([bank])

    with pytest.raises(errors.ItemUnavailable) as refused:
        exchange(rich_member, counter, (item, 1), staff=staff)

    assert refused.value.item == item
    assert exchange(rich_member, bank, (item, 1), staff=staff).counter == bank


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"active_from": datetime.date(2026, 6, 2)},
        {"active_until": datetime.date(2026, 5, 31)},
    ],
)
def test_an_item_not_active_on_the_day_is_refused(counter, item, rich_member, staff, change):
    for name, value in change.items():
        setattr(item, name, value)
    item.save()

    with pytest.raises(errors.ItemUnavailable):
        exchange(rich_member, counter, (item, 1), staff=staff)


def test_an_item_of_another_programme_is_refused(counter, rich_member, staff):
    other = stock(ItemFactory(programme__code="OTHER"), 5)

    with pytest.raises(errors.ItemUnavailable):
        exchange(rich_member, counter, (other, 1), staff=staff)


def test_more_than_in_stock_is_refused_saying_how_many_are_left(counter, item, rich_member, staff):
    with pytest.raises(errors.OutOfStock) as refused:
        exchange(rich_member, counter, (item, 11), staff=staff)

    assert (refused.value.code, refused.value.item, refused.value.available) == ("out_of_stock", item, 10)


# --- limits -------------------------------------------------------------------------------


def test_the_limit_per_member_per_window(counter, item, rich_member, staff):
    item.limit_per_member_window = 2
    item.save()
    exchange(rich_member, counter, (item, 1), staff=staff)

    with pytest.raises(errors.LimitReached) as refused:
        exchange(rich_member, counter, (item, 2), staff=staff, at=tokyo(2026, 6, 2, 10))

    assert (refused.value.which, refused.value.left) == ("window", 1)
    exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 6, 2, 10))
    # The next window starts afresh.
    assert exchange(rich_member, counter, (item, 2), staff=staff, at=NEXT_WINDOW).window_start == datetime.date(
        2026, 7, 1
    )


def test_the_limit_per_window_is_per_member(counter, item, rich_member, staff, programme):
    item.limit_per_member_window = 1
    item.save()
    other = MemberFactory()
    give_points(other, programme, 5_000)
    exchange(rich_member, counter, (item, 1), staff=staff)

    assert exchange(other, counter, (item, 1), staff=staff).member == other


def test_the_limit_per_member_per_year(counter, item, rich_member, staff):
    item.limit_per_member_year = 3
    item.save()
    exchange(rich_member, counter, (item, 2), staff=staff)
    exchange(rich_member, counter, (item, 1), staff=staff, at=NEXT_WINDOW)

    with pytest.raises(errors.LimitReached) as refused:
        exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 8, 3, 10))

    assert (refused.value.which, refused.value.left) == ("year", 0)
    # A new calendar year starts afresh.
    give_points(rich_member, item.programme, 5_000)
    assert exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2027, 1, 5, 10)).points == 2_700


def test_a_cancelled_exchange_no_longer_counts_towards_the_limits(counter, item, rich_member, staff):
    item.limit_per_member_window = 1
    item.save()
    first = exchange(rich_member, counter, (item, 1), staff=staff)
    exchange_cancel(exchange=first, staff=staff, reason="商品の取り違え")

    assert exchange(rich_member, counter, (item, 1), staff=staff).status == Exchange.Status.HANDED_OVER


def test_first_come_per_window_for_all_members_together(counter, item, rich_member, staff, programme):
    item.first_come_per_window = 3
    item.save()
    other = MemberFactory()
    give_points(other, programme, 20_000)
    exchange(rich_member, counter, (item, 2), staff=staff)

    with pytest.raises(errors.WindowQuantityReached) as refused:
        exchange(other, counter, (item, 2), staff=staff)

    assert (refused.value.code, refused.value.left) == ("window_quantity_reached", 1)
    exchange(other, counter, (item, 1), staff=staff)
    # Stock remains, but this window's share is gone; the next window has its own.
    with pytest.raises(errors.WindowQuantityReached):
        exchange(other, counter, (item, 1), staff=staff, at=tokyo(2026, 6, 3, 10))
    assert exchange(other, counter, (item, 3), staff=staff, at=NEXT_WINDOW).window_start == datetime.date(2026, 7, 1)


def test_a_reservation_counts_towards_first_come(counter, item, rich_member, staff, programme):
    item.first_come_per_window = 1
    item.save()
    exchange(rich_member, counter, (item, 1), staff=staff, at=tokyo(2026, 5, 30, 11), reserve=True)
    other = MemberFactory()
    give_points(other, programme, 5_000)

    with pytest.raises(errors.WindowQuantityReached):
        exchange(other, counter, (item, 1), staff=staff)


# --- cancellation -------------------------------------------------------------------------


@pytest.fixture
def two_lots(member, programme):
    """1,000 points that expire soon and 5,000 that expire much later."""
    give_points(member, programme, 1_000)
    give_points(member, programme, 5_000)
    soon, later = Lot.objects.filter(account__member=member).order_by("pk")
    today = timezone.localdate()
    Lot.objects.filter(pk=soon.pk).update(expires_on=today + datetime.timedelta(days=40))
    Lot.objects.filter(pk=later.pk).update(expires_on=today + datetime.timedelta(days=400))
    soon.refresh_from_db()
    later.refresh_from_db()
    return soon, later


def test_an_exchange_takes_the_soonest_expiring_points_first(counter, item, member, staff, two_lots):
    soon, later = two_lots

    exchange(member, counter, (item, 1), staff=staff)

    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.remaining, later.remaining) == (0, 5_000 - 1_700)


def test_cancelling_gives_points_back_to_the_original_lots_with_their_expiry(
    counter, item, member, staff, programme, two_lots
):
    soon, later = two_lots
    done = exchange(member, counter, (item, 1), staff=staff)

    cancelled = exchange_cancel(exchange=done, staff=staff, reason="会員の申し出により取消")

    assert (cancelled.status, cancelled.cancel_reason) == (Exchange.Status.CANCELLED, "会員の申し出により取消")
    assert cancelled.cancelled_at is not None
    void = cancelled.return_entry
    assert (void.kind, void.points, void.reverses_id, void.staff) == (Entry.Kind.VOID, 2_700, done.entry_id, staff)
    restored = {lot.origin_id: (lot.points, lot.remaining, lot.expires_on) for lot in void.lots.all()}
    assert restored == {
        soon.pk: (1_000, 1_000, soon.expires_on),
        later.pk: (1_700, 1_700, later.expires_on),
    }
    assert balance(member, programme) == 6_000
    account = Account.objects.get(member=member, programme=programme)
    assert account.balance - account.debt == Entry.objects.filter(account=account).aggregate(n=Sum("points"))["n"]
    assert ledger_problems(deep=True) == []


def test_cancelling_a_handed_over_exchange_returns_the_goods_to_stock(counter, item, rich_member, staff):
    done = exchange(rich_member, counter, (item, 3), staff=staff)

    exchange_cancel(exchange=done, staff=staff, reason="在庫の数え間違い")

    item.refresh_from_db()
    assert item.stock_on_hand == 10
    assert sorted(done.stock_moves.values_list("kind", "quantity")) == [
        (StockMove.Kind.HANDED_OVER, -3),
        (StockMove.Kind.RETURNED, 3),
    ]
    assert stock_ties_out(item)


def test_cancelling_a_reservation_releases_its_hold(counter, item, rich_member, staff, programme):
    reserved = exchange(rich_member, counter, (item, 2), staff=staff, at=tokyo(2026, 5, 30, 11), reserve=True)

    exchange_cancel(exchange=reserved, staff=staff, reason="電話で取消の連絡")

    item.refresh_from_db()
    assert item.stock_on_hand == 10
    assert sorted(reserved.stock_moves.values_list("kind", "quantity")) == [
        (StockMove.Kind.RELEASED, 2),
        (StockMove.Kind.RESERVED, -2),
    ]
    assert balance(rich_member, programme) == 20_000


def test_cancelling_needs_a_reason(counter, item, rich_member, staff):
    done = exchange(rich_member, counter, (item, 1), staff=staff)

    with pytest.raises(errors.ReasonRequired):
        exchange_cancel(exchange=done, staff=staff, reason=" ")

    done.refresh_from_db()
    assert done.status == Exchange.Status.HANDED_OVER


def test_cancelling_needs_the_permission(counter, item, rich_member, staff, auditor):
    done = exchange(rich_member, counter, (item, 1), staff=staff)

    with pytest.raises(errors.CancelNotAllowed):
        exchange_cancel(exchange=done, staff=auditor, reason="取消")


def test_an_exchange_is_cancelled_once(counter, item, rich_member, staff, programme):
    done = exchange(rich_member, counter, (item, 1), staff=staff)
    exchange_cancel(exchange=done, staff=staff, reason="取消")

    with pytest.raises(errors.WrongStatus):
        exchange_cancel(exchange=done, staff=staff, reason="もう一度")

    assert balance(rich_member, programme) == 20_000
    assert Entry.objects.filter(kind=Entry.Kind.VOID).count() == 1


# --- stock --------------------------------------------------------------------------------


def test_stock_received_and_written_off_is_in_the_ledger(programme, staff):
    item = ItemFactory(programme=programme)

    stock_receive(item=item, quantity=12, staff=staff, reason="納品")
    stock_write_off(item=item, quantity=2, staff=staff, reason="汚損")

    assert item.stock_on_hand == 10
    assert list(item.stock_moves.order_by("pk").values_list("kind", "quantity", "reason")) == [
        (StockMove.Kind.RECEIVED, 12, "納品"),
        (StockMove.Kind.WRITTEN_OFF, -2, "汚損"),
    ]
    assert stock_ties_out(item)


def test_more_than_in_stock_cannot_be_written_off(item, staff):
    with pytest.raises(errors.OutOfStock):
        stock_write_off(item=item, quantity=11, staff=staff, reason="紛失")

    item.refresh_from_db()
    assert item.stock_on_hand == 10


def test_a_write_off_needs_a_reason(item, staff):
    with pytest.raises(errors.ReasonRequired):
        stock_write_off(item=item, quantity=1, staff=staff, reason="")


@pytest.mark.parametrize("quantity", [0, -1, 2.0, True])
def test_a_received_quantity_must_be_a_positive_whole_number(item, staff, quantity):
    with pytest.raises(errors.InvalidRequest):
        stock_receive(item=item, quantity=quantity, staff=staff)
