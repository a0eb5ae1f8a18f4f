import datetime
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from lifecycle.services import card_replace, member_merge, member_withdraw
from members.models import Card, Member
from members.services import card_find, member_register, member_suspend
from points import errors
from points.models import Account, Entry, Lot, LotUse
from points.services import (
    points_adjust,
    points_earn,
    points_expire_lapsed,
    points_spend,
    points_void,
)
from points.tests.factories import StoreFactory, make_card
from points.verification import ledger_problems

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def balance(card, programme):
    account = Account.objects.get(member=Card.objects.get(pk=card.pk).member, programme=programme)
    return account.balance, account.debt


def tokyo(*args):
    return datetime.datetime(*args, tzinfo=timezone.get_default_timezone())


def earn(card, store, yen, **kw):
    return points_earn(card=card, store=store, amount_yen=yen, idempotency_key=key(), **kw)


def test_earn_gives_store_rate_rounded_down_per_receipt(card, store, programme):
    posting = earn(card, store, 1_999)

    assert posting.points == 19
    assert balance(card, programme) == (19, 0)
    assert posting.entries[0].kind == Entry.Kind.EARN
    assert posting.entries[0].amount_yen == 1_999


def test_earned_points_are_valid_until_end_of_month_two_years_later(card, store):
    posting = earn(card, store, 1_000, occurred_at=tokyo(2026, 1, 15, 12))

    assert Lot.objects.get(entry=posting.entries[0]).expires_on == datetime.date(2028, 1, 31)


def test_purchase_worth_no_points_writes_nothing(card, store):
    posting = earn(card, store, 99)

    assert posting.points == 0
    assert not Entry.objects.exists()


def test_retried_earn_with_same_key_counts_once(card, store, programme):
    same = key()
    first = points_earn(card=card, store=store, amount_yen=5_000, idempotency_key=same)
    retry = points_earn(card=card, store=store, amount_yen=5_000, idempotency_key=same)

    assert retry.replayed and retry.entries == first.entries
    assert balance(card, programme) == (50, 0)
    assert Entry.objects.count() == 1


def test_earn_at_store_outside_programme_is_refused(card):
    with pytest.raises(errors.StoreNotInProgramme):
        earn(card, StoreFactory(), 1_000)


def test_replaced_card_cannot_earn(card, store, staff):
    card_replace(old_card=card, new_number="FFFF000000000001", new_card_type=Card.CardType.TRANSIT_IC, staff=staff)

    with pytest.raises(errors.CardNotUsable):
        earn(card, store, 1_000)
    assert not Entry.objects.exists()


def test_suspended_member_cannot_earn(card, store):
    member_register(member=card.member, terms_version="v1", personal={"name": "山田 太郎"})
    member_suspend(member=card.member, staff=None)

    with pytest.raises(errors.MemberNotUsable):
        earn(card, store, 1_000)


def test_member_suspended_after_the_till_read_the_card_cannot_earn(card, store):
    # given the till has looked the card up (its member read with it), and then the member is suspended
    looked_up = card_find(number=card.number)
    Member.objects.filter(pk=card.member_id).update(status=Member.Status.SUSPENDED)

    # then the earn, which reads the member again with the card's lock, refuses
    with pytest.raises(errors.MemberNotUsable):
        earn(looked_up, store, 1_000)
    assert not Entry.objects.exists()


def test_spend_takes_soonest_expiring_lots_first(card, store, other_store, programme):
    old = earn(card, other_store, 3_000, occurred_at=timezone.now() - datetime.timedelta(days=40))
    new = earn(card, store, 5_000)

    spent = points_spend(card=card, store=store, points=40, idempotency_key=key())

    uses = {use.lot.entry_id: use.points for use in LotUse.objects.filter(entry=spent.entries[0]).select_related("lot")}
    assert uses == {old.entries[0].pk: 30, new.entries[0].pk: 10}
    assert balance(card, programme) == (40, 0)


def test_spending_more_than_balance_is_refused_and_changes_nothing(card, store, programme):
    earn(card, store, 1_000)

    with pytest.raises(errors.InsufficientPoints):
        points_spend(card=card, store=store, points=11, idempotency_key=key())

    assert balance(card, programme) == (10, 0)
    assert Entry.objects.count() == 1


def test_spend_refused_where_store_does_not_accept_points(card, programme):
    from points.tests.factories import join

    store = join(StoreFactory(), programme, accepts_spend=False)
    earn(card, store, 1_000)

    with pytest.raises(errors.SpendNotAccepted):
        points_spend(card=card, store=store, points=5, idempotency_key=key())


def test_void_of_unspent_earn_removes_its_points(card, store, programme):
    posting = earn(card, store, 1_000)

    points_void(entry=posting.entries[0], idempotency_key=key())

    assert balance(card, programme) == (0, 0)
    assert Lot.objects.get(entry=posting.entries[0]).remaining == 0


def test_void_of_spent_points_leaves_debt_that_next_earning_repays(card, store, programme):
    posting = earn(card, store, 10_000)
    points_spend(card=card, store=store, points=80, idempotency_key=key())

    points_void(entry=posting.entries[0], idempotency_key=key())
    assert balance(card, programme) == (0, 80)

    earn(card, store, 5_000)
    assert balance(card, programme) == (0, 30)
    earn(card, store, 5_000)
    assert balance(card, programme) == (20, 0)
    assert ledger_problems(deep=True) == []


def test_partial_refunds_take_back_earned_points_rounding_against_member(card, store, programme):
    posting = earn(card, store, 1_000)  # 10 points

    points_void(entry=posting.entries[0], refund_amount_yen=150, idempotency_key=key())
    assert balance(card, programme) == (8, 0)  # 1.5 points rounded up to 2 taken back
    points_void(entry=posting.entries[0], refund_amount_yen=150, idempotency_key=key())
    assert balance(card, programme) == (7, 0)  # 3.0 in total

    with pytest.raises(errors.InvalidAmount):
        points_void(entry=posting.entries[0], refund_amount_yen=701, idempotency_key=key())


def test_void_of_spend_returns_points_to_their_original_lots(card, store, other_store, programme):
    earned = earn(card, other_store, 5_000, occurred_at=tokyo(2026, 2, 3, 10))
    spent = points_spend(card=card, store=store, points=30, idempotency_key=key())

    refund = points_void(entry=spent.entries[0], idempotency_key=key())

    assert refund.points == 30
    lot = Lot.objects.get(entry=refund.entries[0])
    assert (lot.store, lot.expires_on, lot.origin.entry_id) == (
        other_store,
        datetime.date(2028, 2, 29),
        earned.entries[0].pk,
    )
    assert balance(card, programme) == (50, 0)


def test_second_full_void_is_refused(card, store):
    posting = earn(card, store, 1_000)
    points_void(entry=posting.entries[0], idempotency_key=key())

    with pytest.raises(errors.NothingToVoid):
        points_void(entry=posting.entries[0], idempotency_key=key())


def test_manual_adjustment_needs_a_reason(card, programme, staff):
    with pytest.raises(errors.InvalidOperation):
        points_adjust(member=card.member, programme=programme, points=100, reason="  ", staff=staff)
    assert not Entry.objects.exists()


def test_manual_adjustment_records_who_and_why(card, programme, staff):
    posting = points_adjust(member=card.member, programme=programme, points=100, reason="お詫び", staff=staff)

    entry = posting.entries[0]
    assert (entry.kind, entry.points, entry.reason, entry.staff) == (Entry.Kind.ADJUST, 100, "お詫び", staff)


def test_deduction_beyond_balance_is_refused(card, programme, staff):
    points_adjust(member=card.member, programme=programme, points=10, reason="x", staff=staff)

    with pytest.raises(errors.InsufficientPoints):
        points_adjust(member=card.member, programme=programme, points=-11, reason="x", staff=staff)


def test_nightly_expiry_expires_lapsed_lots_once(card, store, programme):
    earn(card, store, 3_000, occurred_at=tokyo(2023, 5, 10, 12))  # valid until 2025-05-31
    earn(card, store, 2_000)

    assert points_expire_lapsed() == (1, 30)
    assert points_expire_lapsed() == (0, 0)
    assert balance(card, programme) == (20, 0)
    assert Entry.objects.filter(kind=Entry.Kind.EXPIRE).get().points == -30


def test_lapsed_points_cannot_be_spent_before_the_nightly_job(card, store, programme):
    earn(card, store, 3_000, occurred_at=tokyo(2023, 5, 10, 12))

    with pytest.raises(errors.InsufficientPoints):
        points_spend(card=card, store=store, points=1, idempotency_key=key())
    # The lapsed lot was expired on touch, inside the refused spend's transaction, so it rolled back too.
    assert balance(card, programme) == (30, 0)


def test_card_replacement_moves_nothing_but_stops_the_old_card(card, store, programme, staff):
    earn(card, store, 4_000)

    new = card_replace(
        old_card=card, new_number="0000AAAA0000BBBB", new_card_type=Card.CardType.TRANSIT_IC, staff=staff
    )

    card.refresh_from_db()
    assert (card.status, card.replaced_by) == (Card.Status.REPLACED, new)
    assert new.member == card.member
    points_spend(card=new, store=store, points=40, idempotency_key=key())
    assert balance(new, programme) == (0, 0)


def test_card_replacement_with_a_used_new_card_merges_its_points(card, store, programme, staff):
    earn(card, store, 4_000)
    used = make_card()
    earn(used, store, 2_000)
    provisional = used.member

    new = card_replace(old_card=card, new_number=used.number, new_card_type=used.card_type, staff=staff)

    assert new.pk == used.pk and new.member == card.member
    assert balance(card, programme) == (60, 0)
    provisional.refresh_from_db()
    assert (provisional.status, provisional.merged_into) == (Member.Status.WITHDRAWN, card.member)
    assert ledger_problems(deep=True) == []


def test_merge_moves_points_lots_and_cards(card, store, other_store, programme, staff):
    target = make_card()
    member_register(member=target.member, terms_version="v1", personal={"name": "佐藤 花子"})
    earned = earn(card, other_store, 7_000)
    earn(target, store, 1_000)

    member_merge(source=card.member, target=target.member, staff=staff)

    assert balance(target, programme) == (80, 0)
    moved = Lot.objects.get(origin__entry=earned.entries[0])
    assert (moved.store, moved.account.member) == (other_store, target.member)
    assert card_find(number=card.number).member == target.member
    assert Entry.objects.filter(kind=Entry.Kind.TRANSFER).count() == 2
    assert ledger_problems(deep=True) == []


def test_merge_moves_debt_too(card, store, programme, staff):
    target = make_card()
    posting = earn(card, store, 10_000)
    points_spend(card=card, store=store, points=100, idempotency_key=key())
    points_void(entry=posting.entries[0], idempotency_key=key())
    earn(target, store, 3_000)

    member_merge(source=card.member, target=target.member, staff=staff)

    assert balance(target, programme) == (0, 70)
    assert ledger_problems(deep=True) == []


def test_withdrawal_forfeits_points_erases_personal_data_keeps_ledger(card, store, programme, staff):
    member = member_register(
        member=card.member, terms_version="v1", personal={"name": "山田 太郎", "phone": "090-1111-2222"}
    )
    earn(card, store, 5_000)

    member_withdraw(member=member, staff=staff)

    member.refresh_from_db()
    assert (member.status, member.name, member.phone, member.phone_bidx) == (Member.Status.WITHDRAWN, "", "", "")
    assert Card.objects.get(pk=card.pk).status == Card.Status.BLOCKED
    assert balance(card, programme) == (0, 0)
    assert list(Entry.objects.filter(account__member=member).order_by("id").values_list("kind", "points")) == [
        ("earn", 50),
        ("expire", -50),
    ]


def test_verify_ledger_names_a_broken_balance(card, store, capsys):
    earn(card, store, 1_000)
    Account.objects.update(balance=11)

    with pytest.raises(Exception, match="ledger verification failed"):
        call_command("verify_ledger")
    assert "balance_equals_entries" in capsys.readouterr().err


def test_verify_ledger_passes_on_a_consistent_ledger(card, store, capsys):
    earn(card, store, 1_000)

    call_command("verify_ledger")

    assert "ledger OK" in capsys.readouterr().out


def test_retried_spend_returns_the_first_result_even_after_the_balance_moved_on(card, store, programme):
    earn(card, store, 10_000)
    first = points_spend(card=card, store=store, points=100, idempotency_key="spend-once")

    retry = points_spend(card=card, store=store, points=100, idempotency_key="spend-once")

    assert retry.replayed and retry.entries == first.entries
    assert balance(card, programme) == (0, 0)
