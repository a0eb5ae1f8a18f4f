"""A merge, a card replacement and a withdrawal move or end everything each app holds for the member, in one
transaction with its audit row."""

import itertools
from unittest import mock

import pytest

from audit.models import AuditEvent
from coupons.errors import CouponAlreadyRedeemed
from coupons.models import Coupon
from coupons.services import coupon_redeem
from exchange.models import Exchange
from exchange.services import exchange_cancel, exchange_create
from exchange.tests.factories import tokyo
from lifecycle.services import card_replace, member_merge, member_withdraw
from members.models import Card, Member
from members.services import member_register
from points import errors
from points.models import Account, Entry
from points.services import points_adjust
from points.tests.factories import make_card
from points.verification import ledger_problems
from rallies.models import GoalReached, Stamp
from till.services import till_void
from till.tests.helpers import till_buy, till_terminal_of

_keys = itertools.count()


def balance(member, programme) -> int:
    return Account.objects.get(member=member, programme=programme).balance


def register(card, name="山田 太郎"):
    member_register(member=card.member, terms_version="v1", personal={"name": name, "email": "taro@example.jp"})
    card.member.refresh_from_db()
    return card.member


def reserve(member, counter, item, staff, programme):
    points_adjust(member=member, programme=programme, points=1_000, reason="テスト", staff=staff)
    return exchange_create(
        member=member,
        counter=counter,
        lines=[(item, 1)],
        staff=staff,
        idempotency_key=f"reserve-{next(_keys)}",
        at=tokyo(2026, 5, 30, 11),
        reserve=True,
    )


def live_stamps(member) -> list[int]:
    return sorted(Stamp.objects.filter(member=member, voided_at__isnull=True).values_list("store_id", flat=True))


def test_a_merge_leaves_the_survivor_holding_everything(
    programme, stores, source, target, rally, coupon_template, counter, item, staff
):
    survivor = register(target)
    till_buy(source, stores[0], amount_yen=2_000)
    till_buy(target, stores[1], amount_yen=1_000)
    reservation = reserve(source.member, counter, item, staff, programme)
    (source_coupon,) = Coupon.objects.filter(member=source.member)
    merged = source.member

    moved = member_merge(source=merged, target=survivor, staff=staff, reason="同一人物")

    assert balance(survivor, programme) == 10 + 20 + 1_000 - 270
    assert balance(merged, programme) == 0
    assert Card.objects.get(pk=source.pk).member_id == survivor.pk
    assert live_stamps(survivor) == [stores[0].pk, stores[1].pk]
    assert live_stamps(merged) == []
    assert set(Coupon.objects.filter(member=survivor).values_list("pk", flat=True)) >= {source_coupon.pk}
    assert Exchange.objects.get(pk=reservation.pk).member_id == survivor.pk
    assert (moved["cards"], moved["coupons"], moved["stamps"], moved["exchanges"]) == (1, 1, 1, 1)
    merged.refresh_from_db()
    assert merged.status == Member.Status.WITHDRAWN and merged.merged_into_id == survivor.pk
    survivor.refresh_from_db()
    assert survivor.name == "山田 太郎" and survivor.status == Member.Status.ACTIVE
    assert not merged.name and merged.name_bidx in (None, "")
    (event,) = AuditEvent.objects.filter(summary="members merged")
    assert (event.actor, event.object_id, event.detail["merged_from"]) == (staff, str(survivor.pk), merged.pseudonym)
    assert ledger_problems(deep=True) == []


def test_a_moved_coupon_is_still_redeemable_once_at_the_till(programme, stores, source, target, coupon_template, staff):
    survivor = register(target)
    till_buy(source, stores[0])
    (coupon,) = Coupon.objects.filter(member=source.member)

    member_merge(source=source.member, target=survivor, staff=staff)

    terminal = till_terminal_of(stores[0])
    redeemed = coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="redeem-1")
    assert (redeemed.status, redeemed.member_id) == (Coupon.Status.REDEEMED, survivor.pk)
    with pytest.raises(CouponAlreadyRedeemed):
        coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="redeem-2")


def test_a_moved_reservation_gives_its_points_back_to_the_survivor(
    programme, source, target, counter, item, staff, stores
):
    survivor = register(target)
    reservation = reserve(source.member, counter, item, staff, programme)
    member_merge(source=source.member, target=survivor, staff=staff)
    before = balance(survivor, programme)

    exchange_cancel(exchange=reservation, staff=staff, reason="電話で取消")

    assert balance(survivor, programme) == before + 270
    assert balance(source.member, programme) == 0
    assert ledger_problems(deep=True) == []


def test_a_goal_the_two_reach_together_is_reached_and_rewarded_once(programme, stores, source, target, rally, staff):
    survivor = register(target)
    till_buy(source, stores[0])
    till_buy(target, stores[1])

    member_merge(source=source.member, target=survivor, staff=staff)
    third = till_buy(target, stores[2])
    fourth = till_buy(source, stores[3])

    assert GoalReached.objects.filter(member=survivor, revoked_at__isnull=True).count() == 1
    assert GoalReached.objects.get(member=survivor).earn_id == third.posting.entries[0].pk
    assert Entry.objects.filter(account__member=survivor, kind=Entry.Kind.BONUS).count() == 1
    assert fourth.posting.account.member_id == survivor.pk
    assert len(live_stamps(survivor)) == 4


def test_a_goal_both_records_reached_counts_once(programme, stores, source, target, rally, staff):
    survivor = register(target)
    for store in stores[:3]:
        till_buy(source, store)
        till_buy(target, store)
    assert GoalReached.objects.filter(revoked_at__isnull=True).count() == 2

    moved = member_merge(source=source.member, target=survivor, staff=staff)

    # One stamp per store and one goal reached for the one person; the duplicates stay, marked, on the merged record.
    assert live_stamps(survivor) == [store.pk for store in stores[:3]]
    assert GoalReached.objects.filter(revoked_at__isnull=True).get().member_id == survivor.pk
    assert (moved["stamps_held_twice"], moved["goals_reached_twice"]) == (3, 1)
    assert Stamp.objects.filter(member=source.member, voided_at__isnull=False).count() == 3
    # The next stamp rewards nothing more.
    till_buy(target, stores[3])
    assert GoalReached.objects.filter(member=survivor, revoked_at__isnull=True).count() == 1


def test_voiding_a_purchase_made_before_the_merge_takes_the_points_from_the_survivor(
    programme, stores, source, target, staff
):
    survivor = register(target)
    bought = till_buy(source, stores[0], amount_yen=5_000)
    till_buy(target, stores[0], amount_yen=1_000)
    member_merge(source=source.member, target=survivor, staff=staff)
    assert balance(survivor, programme) == 60

    till_void(terminal=till_terminal_of(stores[0]), original=bought.posting.entries[0], idempotency_key="void-1")

    assert balance(survivor, programme) == 10
    merged = Account.objects.get(member=source.member, programme=programme)
    assert (merged.balance, merged.debt) == (0, 0)
    assert ledger_problems(deep=True) == []


def test_withdrawal_cancels_reservations_forfeits_points_and_erases_personal_data(
    programme, stores, target, counter, item, staff
):
    member = register(target)
    till_buy(target, stores[0], amount_yen=3_000)
    reservation = reserve(member, counter, item, staff, programme)

    member_withdraw(member=member, staff=staff, reason="本人の申出")

    reservation.refresh_from_db()
    item.refresh_from_db()
    assert reservation.status == Exchange.Status.CANCELLED
    assert item.stock_on_hand == 10
    assert balance(member, programme) == 0
    member.refresh_from_db()
    assert (member.status, member.name or None, member.email or None) == (Member.Status.WITHDRAWN, None, None)
    assert Card.objects.get(pk=target.pk).status == Card.Status.BLOCKED
    (event,) = AuditEvent.objects.filter(summary="member withdrawn")
    assert event.actor == staff
    assert (event.detail["points_forfeited"], event.detail["reservations_cancelled"]) == (1_030, 1)
    assert ledger_problems(deep=True) == []


def test_a_replaced_card_brings_what_the_new_card_collected_on_its_own(programme, stores, target, rally, staff):
    member = register(target)
    till_buy(target, stores[0])
    used = make_card()
    till_buy(used, stores[1])

    new = card_replace(old_card=target, new_number=used.number, new_card_type=used.card_type, staff=staff)

    assert new.pk == used.pk and Card.objects.get(pk=used.pk).member_id == member.pk
    assert live_stamps(member) == [stores[0].pk, stores[1].pk]
    assert balance(member, programme) == 20
    (event,) = AuditEvent.objects.filter(summary="card replaced")
    assert (event.actor, event.detail["new_card"], event.detail["stamps"]) == (staff, used.pk, 1)


@pytest.mark.parametrize(
    "service",
    [
        lambda cards, staff: member_merge(source=cards[0].member, target=cards[1].member, staff=staff),
        lambda cards, staff: member_withdraw(member=cards[1].member, staff=staff),
        lambda cards, staff: card_replace(
            old_card=cards[1], new_number="00000000DEADBEEF", new_card_type=cards[1].card_type, staff=staff
        ),
    ],
    ids=["merge", "withdraw", "replace"],
)
def test_nothing_changes_when_the_audit_row_cannot_be_written(programme, stores, source, target, staff, service):
    register(target)
    till_buy(source, stores[0])
    till_buy(target, stores[0])
    before = (
        list(Member.objects.order_by("pk").values_list("pk", "status", "name_bidx")),
        list(Card.objects.order_by("pk").values_list("pk", "member_id", "status")),
        Entry.objects.count(),
    )

    with mock.patch.object(AuditEvent.objects, "create", side_effect=RuntimeError("audit down")):
        with pytest.raises(RuntimeError, match="audit down"):
            service([source, target], staff)

    after = (
        list(Member.objects.order_by("pk").values_list("pk", "status", "name_bidx")),
        list(Card.objects.order_by("pk").values_list("pk", "member_id", "status")),
        Entry.objects.count(),
    )
    assert after == before


def test_a_merge_refuses_what_it_cannot_do(programme, source, target, staff):
    survivor = register(target)
    with pytest.raises(errors.InvalidOperation):
        member_merge(source=survivor, target=survivor, staff=staff)
    with pytest.raises(errors.InvalidOperation):
        member_merge(source=survivor, target=source.member, staff=staff)
    assert not AuditEvent.objects.filter(summary="members merged").exists()
