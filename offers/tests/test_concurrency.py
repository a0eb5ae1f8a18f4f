"""Purchases at the same moment, on PostgreSQL with real threads: the budget and a member's limit hold exactly."""

import pytest

from members.tests.factories import MemberFactory
from offers.models import Activation, Offer, Redemption
from offers.services import offer_activate
from offers.tests.factories import consenting, joined, make_offer
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from points.tests.test_concurrency import run_at_once
from stores.tests.factories import TerminalFactory
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_members_buying_at_once_take_exactly_the_budget():
    # Given an offer of 500 yen back with a budget for three, and ten members who activated it
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    offer = make_offer(programme=programme, store=store, budget=1_500)
    cards = []
    for _ in range(10):
        member = joined(consenting(MemberFactory()), programme)
        offer_activate(member=member, offer=offer)
        cards.append(make_card(member=member))
    terminals = [TerminalFactory(store=store) for _ in range(10)]

    # When they all buy at once
    results = run_at_once(10, lambda i: till_buy(cards[i], store, amount_yen=3_000, terminal=terminals[i]))

    # Then every purchase earned, three qualified, and the budget is used exactly
    assert not [result for result in results if isinstance(result, Exception)], results
    assert Redemption.objects.count() == 3
    assert Offer.objects.get(pk=offer.pk).budget_used == 1_500


def test_one_member_buying_on_two_tills_at_once_qualifies_up_to_the_limit():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    offer = make_offer(programme=programme, store=store, per_member_limit=2)
    member = joined(consenting(MemberFactory()), programme)
    offer_activate(member=member, offer=offer)
    cards = [make_card(member=member) for _ in range(6)]
    terminals = [TerminalFactory(store=store) for _ in range(6)]

    results = run_at_once(6, lambda i: till_buy(cards[i], store, amount_yen=3_000, terminal=terminals[i]))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert Redemption.objects.count() == 2
    assert Activation.objects.get().uses == 2
    assert Offer.objects.get(pk=offer.pk).budget_used == 1_000
