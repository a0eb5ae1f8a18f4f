"""Offers end to end through the services: targeting with consent, activation, the till, the waiting period,
voids, limits, and the card issuer's file."""

import datetime

import pytest
from django.utils import timezone

from members.models import Member
from members.tests.factories import MemberFactory
from offers import selectors
from offers.models import Activation, Offer, Redemption
from offers.services import (
    CardLine,
    OfferError,
    card_transaction_import,
    offer_activate,
    offers_settle_due,
    payment_card_link,
)
from offers.tests.factories import consenting, joined, make_offer
from points.models import Entry, Funder
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from points.verification import ledger_problems
from till.services import till_void
from till.tests.helpers import till_buy, till_terminal_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return ProgrammeFactory()


@pytest.fixture
def store(programme):
    return join(StoreFactory(), programme)


def _member(programme, **fields):
    return joined(consenting(MemberFactory(**fields)), programme)


def test_an_offer_reaches_only_consenting_members_who_fit(programme, store):
    fits = _member(programme, gender="female")
    no_consent = joined(MemberFactory(gender="female"), programme)
    withdrew = _member(programme, gender="female")
    consenting(withdrew, given=False)
    does_not_fit = _member(programme, gender="male")
    elsewhere = consenting(MemberFactory(gender="female"))  # no account in the programme

    offer = make_offer(programme=programme, store=store, genders=["female"])

    reached = set(selectors.offer_targeted(offer=offer).values_list("pk", flat=True))
    assert reached == {fits.pk}
    assert no_consent.pk not in reached and withdrew.pk not in reached
    assert does_not_fit.pk not in reached and elsewhere.pk not in reached
    assert selectors.offer_reach(offer=offer) == 1
    with pytest.raises(OfferError):
        offer_activate(member=no_consent, offer=offer)


def test_visit_history_targets_members_who_have_not_visited(programme, store):
    regular, lapsed = _member(programme), _member(programme)
    till_buy(make_card(member=regular), store, amount_yen=1_000)
    offer = make_offer(programme=programme, store=store, not_visited_days=90)
    assert set(selectors.offer_targeted(offer=offer).values_list("pk", flat=True)) == {lapsed.pk}


def test_a_member_activates_buys_and_is_paid_after_the_waiting_period(programme, store):
    member = _member(programme)
    card = make_card(member=member)
    offer = make_offer(programme=programme, store=store)

    till_buy(card, store, amount_yen=3_000)  # before activating: nothing
    assert not Redemption.objects.exists()

    offer_activate(member=member, offer=offer)
    till_buy(card, store, amount_yen=2_999)  # under the minimum: nothing
    assert not Redemption.objects.exists()
    receipt = till_buy(card, store, amount_yen=3_500)

    redemption = Redemption.objects.get()
    assert redemption.purchase == receipt.posting.entries[0]
    assert (redemption.benefit, redemption.fee_yen, redemption.status) == (500, 50, Redemption.Status.PENDING)
    assert redemption.due_on == timezone.localdate() + datetime.timedelta(days=30)

    # The limit of once per member holds
    till_buy(card, store, amount_yen=5_000)
    assert Redemption.objects.count() == 1

    assert offers_settle_due(today=redemption.due_on - datetime.timedelta(days=1)) == 0
    assert offers_settle_due(today=redemption.due_on) == 1
    assert offers_settle_due(today=redemption.due_on) == 0
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.PAID and redemption.paid_at is not None
    assert Offer.objects.get(pk=offer.pk).budget_used == 500


def test_points_benefit_is_a_bonus_the_store_pays(programme, store):
    member = _member(programme)
    card = make_card(member=member)
    offer = make_offer(
        programme=programme,
        store=store,
        benefit=Offer.Benefit.POINTS,
        benefit_fixed=0,
        benefit_rate_bp=1_000,
        benefit_cap=400,
        waiting_days=0,
    )
    offer_activate(member=member, offer=offer)
    till_buy(card, store, amount_yen=5_000)
    assert offers_settle_due(today=timezone.localdate()) == 1
    bonus = Entry.objects.get(kind=Entry.Kind.BONUS, idempotency_key__startswith="offer-redemption:")
    assert (bonus.points, bonus.funder, bonus.store_id) == (400, Funder.STORE, store.pk)
    assert ledger_problems(deep=True) == []


def test_a_retried_purchase_qualifies_once(programme, store):
    member = _member(programme)
    card = make_card(member=member)
    offer = make_offer(programme=programme, store=store, per_member_limit=5)
    offer_activate(member=member, offer=offer)
    till_buy(card, store, amount_yen=3_000, key="same")
    till_buy(card, store, amount_yen=3_000, key="same")
    assert Redemption.objects.count() == 1
    assert Activation.objects.get().uses == 1


def test_a_voided_purchase_pays_nothing(programme, store):
    member = _member(programme)
    card = make_card(member=member)
    offer = make_offer(programme=programme, store=store)
    offer_activate(member=member, offer=offer)
    receipt = till_buy(card, store, amount_yen=4_000)

    till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="void-1")

    redemption = Redemption.objects.get()
    assert redemption.status == Redemption.Status.CANCELLED
    assert offers_settle_due(today=redemption.due_on) == 0
    assert Offer.objects.get(pk=offer.pk).budget_used == 0
    assert Activation.objects.get().uses == 0


def test_a_partial_refund_keeps_a_benefit_the_rest_of_the_purchase_still_earns(programme, store):
    # given a 2 % back offer (at least 3,000 yen) on a waiting 10,000 yen purchase
    member = _member(programme)
    card = make_card(member=member)
    offer = make_offer(programme=programme, store=store, benefit_fixed=0, benefit_rate_bp=200, per_member_limit=5)
    offer_activate(member=member, offer=offer)
    receipt = till_buy(card, store, amount_yen=10_000)
    assert Offer.objects.get(pk=offer.pk).budget_used == 200
    terminal, original = till_terminal_of(store), receipt.posting.entries[0]
    # when 4,000 yen of it is refunded, the benefit is recomputed on the 6,000 yen left
    till_void(terminal=terminal, original=original, idempotency_key="refund-1", refund_amount_yen=4_000)
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.amount_yen, redemption.benefit) == (Redemption.Status.PENDING, 6_000, 120)
    assert Offer.objects.get(pk=offer.pk).budget_used == 120
    # and when a further refund leaves less than the minimum, nothing is paid
    till_void(terminal=terminal, original=original, idempotency_key="refund-2", refund_amount_yen=4_000)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert Offer.objects.get(pk=offer.pk).budget_used == 0
    assert Activation.objects.get().uses == 0


def test_the_budget_stops_qualifying_when_used_up(programme, store):
    offer = make_offer(programme=programme, store=store, budget=1_000)
    members = [_member(programme) for _ in range(3)]
    for member in members:
        offer_activate(member=member, offer=offer)
        till_buy(make_card(member=member), store, amount_yen=3_000)
    assert Redemption.objects.count() == 2
    assert Offer.objects.get(pk=offer.pk).budget_used == 1_000


def _line(**fields):
    values = {
        "token": "tok_0001",
        "merchant_code": "",
        "store_code": "",
        "amount_yen": 3_200,
        "occurred_at": timezone.now(),
        "transaction_id": "tx-1",
    }
    values.update(fields)
    return CardLine(**values)


def test_a_card_file_purchase_qualifies_once_and_its_return_takes_it_back(programme, store):
    member = _member(programme)
    payment_card_link(member=member, token="tok_0001")
    offer = make_offer(programme=programme, store=store)
    offer_activate(member=member, offer=offer)
    codes = {"merchant_code": store.merchant.code, "store_code": store.code}

    assert card_transaction_import(line=_line(**codes))[1] == "matched"
    assert card_transaction_import(line=_line(**codes))[1] == "duplicate"
    redemption = Redemption.objects.get()
    assert redemption.source == "card:tx-1"

    offers_settle_due(today=redemption.due_on)
    returned = _line(**codes, amount_yen=-3_200, transaction_id="tx-2", original_id="tx-1")
    assert card_transaction_import(line=returned)[1] == "returned"
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.REVERSED and redemption.reversed_at is not None


def test_a_return_before_payment_cancels(programme, store):
    member = _member(programme)
    payment_card_link(member=member, token="tok_0001")
    offer = make_offer(programme=programme, store=store)
    offer_activate(member=member, offer=offer)
    codes = {"merchant_code": store.merchant.code, "store_code": store.code}
    card_transaction_import(line=_line(**codes))
    card_transaction_import(line=_line(**codes, amount_yen=-3_200, transaction_id="tx-2", original_id="tx-1"))
    assert Redemption.objects.get().status == Redemption.Status.CANCELLED
    assert offers_settle_due(today=timezone.localdate() + datetime.timedelta(days=60)) == 0


def test_an_unknown_store_or_card_matches_nothing(programme, store):
    assert card_transaction_import(line=_line(store_code="nope"))[1] == "unknown_store"
    codes = {"merchant_code": store.merchant.code, "store_code": store.code}
    assert card_transaction_import(line=_line(**codes, token="unknown"))[1] == "no_member"


def test_the_report_matches_the_redemptions(programme, store):
    members = [_member(programme) for _ in range(2)]
    offer = make_offer(programme=programme, store=store, waiting_days=0)
    for member in members:
        offer_activate(member=member, offer=offer)
        till_buy(make_card(member=member), store, amount_yen=3_000)
    offers_settle_due(today=timezone.localdate())
    report = selectors.offer_report(offer=offer)
    assert (report.reach, report.activations, report.purchases, report.sales_yen) == (2, 2, 2, 6_000)
    assert (report.benefit_paid, report.fees_yen, report.cost_yen) == (1_000, 100, 1_100)
    assert Member.objects.count() == 2
