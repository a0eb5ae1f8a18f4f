"""A return after the benefit was paid: what the rest of the purchase no longer earns is taken back (points by
a void of the bonus paid, into debt if they were spent), whole or in part, once however often it is retried,
and the close gives it back to the store that paid."""

import datetime

import pytest
from django.utils import timezone

from billing.models import Statement, StatementLine
from billing.services import period_close
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from members.tests.factories import MemberFactory
from offers import selectors
from offers.models import Activation, Offer, Redemption, Reversal
from offers.services import CardLine, card_transaction_import, offer_activate, offers_settle_due, payment_card_link
from offers.tests.factories import consenting, joined, make_offer
from points import errors
from points.models import Account, Entry
from points.services import points_take_back
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from points.verification import ledger_problems
from till.services import till_void
from till.tests.helpers import till_buy, till_terminal_of

pytestmark = pytest.mark.django_db
Kind = StatementLine.Kind


@pytest.fixture
def programme():
    return ProgrammeFactory()


@pytest.fixture
def store(programme):
    return join(StoreFactory(), programme)


def _member(programme):
    return joined(consenting(MemberFactory()), programme)


def _points_offer(programme, store, **fields):
    values = {"benefit": Offer.Benefit.POINTS, "benefit_fixed": 300, "waiting_days": 0, "per_member_limit": 2}
    return make_offer(programme=programme, store=store, **{**values, **fields})


def _account(member, programme):
    return Account.objects.get(member=member, programme=programme)


def test_a_void_after_payment_takes_the_points_back_once(programme, store):
    # given a member paid a 300-point benefit on a 4,000 yen purchase
    member = _member(programme)
    card = make_card(member=member)
    offer = _points_offer(programme, store)
    offer_activate(member=member, offer=offer)
    receipt = till_buy(card, store, amount_yen=4_000)
    earned = _account(member, programme).balance
    assert offers_settle_due(today=timezone.localdate()) == 1
    assert _account(member, programme).balance == earned + 300

    # when the purchase is voided, and the void retried
    for _ in range(2):
        till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="void-1")

    # then the purchase's points and the benefit's are both gone, once
    assert _account(member, programme).balance == 0
    redemption = Redemption.objects.get()
    assert redemption.status == Redemption.Status.REVERSED and redemption.reversed_at is not None
    reversal = Reversal.objects.get()
    assert (reversal.benefit, reversal.whole, reversal.fee_yen) == (300, True, 50)
    assert (reversal.points_entry.kind, reversal.points_entry.points) == (Entry.Kind.VOID, -300)
    assert reversal.points_entry.reverses == redemption.payout_entry
    # the use and the budget come back
    assert Activation.objects.get().uses == 0
    assert Offer.objects.get(pk=offer.pk).budget_used == 0
    assert ledger_problems(deep=True) == []


def test_points_already_spent_become_debt(programme, store):
    member = _member(programme)
    card = make_card(member=member)
    offer_activate(member=member, offer=_points_offer(programme, store))
    receipt = till_buy(card, store, amount_yen=4_000)
    offers_settle_due(today=timezone.localdate())
    account = _account(member, programme)
    # the member spends everything, the benefit included
    from points.services import points_spend

    points_spend(card=card, store=store, points=account.balance, idempotency_key="spend-all")

    till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="void-1")

    account.refresh_from_db()
    assert account.balance == 0
    # the purchase's own points were not spendable twice: what was spent of them and of the benefit is owed
    assert account.debt == receipt.posting.entries[0].points + 300
    assert ledger_problems(deep=True) == []


def test_a_partial_refund_after_payment_takes_back_the_difference(programme, store):
    # given 5 % back in points (at least 3,000 yen), paid on 10,000 yen
    member = _member(programme)
    card = make_card(member=member)
    offer = _points_offer(programme, store, benefit_fixed=0, benefit_rate_bp=500)
    offer_activate(member=member, offer=offer)
    receipt = till_buy(card, store, amount_yen=10_000)
    offers_settle_due(today=timezone.localdate())
    terminal, original = till_terminal_of(store), receipt.posting.entries[0]

    # when 4,000 yen is refunded (and the refund retried), 5 % of the 6,000 left stands: 200 of 500 come back
    for _ in range(2):
        till_void(terminal=terminal, original=original, idempotency_key="refund-1", refund_amount_yen=4_000)
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.amount_yen) == (Redemption.Status.PAID, 6_000)
    assert list(Reversal.objects.values_list("benefit", "whole", "fee_yen")) == [(200, False, 0)]
    assert Offer.objects.get(pk=offer.pk).budget_used == 300
    assert selectors.offer_report(offer=offer).benefit_paid == 300

    # and a second refund leaving less than the minimum takes back the rest, and the fee
    till_void(terminal=terminal, original=original, idempotency_key="refund-2", refund_amount_yen=4_000)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.REVERSED
    assert list(Reversal.objects.order_by("pk").values_list("benefit", "whole", "fee_yen")) == [
        (200, False, 0),
        (300, True, 50),
    ]
    assert sum(Entry.objects.filter(reverses=redemption.payout_entry).values_list("points", flat=True)) == -500
    assert Offer.objects.get(pk=offer.pk).budget_used == 0
    assert selectors.offer_report(offer=offer).benefit_paid == 0
    assert ledger_problems(deep=True) == []


def test_a_partial_card_return_after_payment_takes_back_the_difference(programme, store):
    member = _member(programme)
    payment_card_link(member=member, token="tok_0001")
    offer = make_offer(programme=programme, store=store, benefit_fixed=0, benefit_rate_bp=1_000, waiting_days=0)
    offer_activate(member=member, offer=offer)
    codes = {"merchant_code": store.merchant.code, "store_code": store.code, "token": "tok_0001"}
    now = timezone.now()
    card_transaction_import(line=CardLine(**codes, amount_yen=8_000, occurred_at=now, transaction_id="T-1"))
    offers_settle_due(today=timezone.localdate())

    returned = CardLine(**codes, amount_yen=-3_000, occurred_at=now, transaction_id="T-2", original_id="T-1")
    assert card_transaction_import(line=returned)[1] == "returned"
    assert card_transaction_import(line=returned)[1] == "duplicate"

    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.amount_yen) == (Redemption.Status.PAID, 5_000)
    assert list(Reversal.objects.values_list("benefit", "whole", "points_entry")) == [(300, False, None)]


def test_the_close_gives_back_to_the_store_what_was_taken_back(programme, store):
    # given a yen offer and a points offer whose benefits were paid in the previous period
    billing = BillingSettingsFactory(programme=programme, issue_price_bp=10_000)
    cash = make_offer(programme=programme, store=store, waiting_days=0, fee_per_redemption_yen=100)
    points = _points_offer(programme, store, fee_per_redemption_yen=100)
    member = _member(programme)
    offer_activate(member=member, offer=cash)
    offer_activate(member=member, offer=points)
    receipt = till_buy(make_card(member=member), store, amount_yen=3_000)
    offers_settle_due(today=timezone.localdate())
    year, month = this_period(billing)
    Redemption.objects.update(paid_at=timezone.now() - datetime.timedelta(days=62))

    # when the purchase is voided in this one
    till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="v")

    # then this period's statement takes the cash-back and the fees back, and credits the points' void
    result = period_close(programme=programme, year=year, month=month, now=after_period(billing, year, month))
    assert result.tie_out["ties_out"] is True, result.tie_out
    lines = {line.kind: line.amount_yen for line in Statement.objects.get(store=store).lines.all()}
    assert (lines[Kind.OFFER_CASHBACK], lines[Kind.OFFER_FEE]) == (-500, -200)
    # the store funded the purchase's points and the benefit's: the void of both is credited to it
    assert lines[Kind.BONUS_STORE] == 300
    assert lines[Kind.VOID_ISSUED] == -(receipt.posting.entries[0].points + 300)


def test_take_back_refuses_more_than_remains_and_a_purchase(programme, store):
    member = _member(programme)
    offer_activate(member=member, offer=_points_offer(programme, store))
    receipt = till_buy(make_card(member=member), store, amount_yen=4_000)
    offers_settle_due(today=timezone.localdate())
    bonus = Redemption.objects.get().payout_entry
    points_take_back(entry=bonus, points=100, idempotency_key="k1")
    assert points_take_back(entry=bonus, points=100, idempotency_key="k1").replayed
    with pytest.raises(errors.InvalidAmount):
        points_take_back(entry=bonus, points=201, idempotency_key="k2")
    with pytest.raises(errors.InvalidOperation):
        points_take_back(entry=receipt.posting.entries[0], points=1, idempotency_key="k3")
    assert -sum(Entry.objects.filter(reverses=bonus).values_list("points", flat=True)) == 100


def test_a_small_refund_after_payment_that_still_earns_it_all_takes_nothing_back(programme, store):
    # given a fixed 300-point benefit (at least 3,000 yen) paid on 5,000 yen
    member = _member(programme)
    offer = _points_offer(programme, store)
    offer_activate(member=member, offer=offer)
    receipt = till_buy(make_card(member=member), store, amount_yen=5_000)
    offers_settle_due(today=timezone.localdate())
    # when 1,000 yen is refunded, the 4,000 left still earns the whole benefit
    original = receipt.posting.entries[0]
    till_void(terminal=till_terminal_of(store), original=original, idempotency_key="r", refund_amount_yen=1_000)
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.amount_yen) == (Redemption.Status.PAID, 4_000)
    assert not Reversal.objects.exists()
    assert selectors.offer_report(offer=offer).sales_yen == 4_000
