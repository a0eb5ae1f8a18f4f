"""The till's locks on PostgreSQL with real threads."""

import pytest

from points.models import Account
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from points.tests.test_concurrency import card_moved_under_lock
from points.verification import ledger_problems
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_earn_waiting_on_a_card_that_a_merge_moves_credits_the_card_s_new_member():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    card, target = make_card(), make_card()
    # Both have an account, so the till finds and locks the card with its (old) member's account at once.
    till_buy(card, store, amount_yen=1_000)
    till_buy(target, store, amount_yen=1_000)
    with card_moved_under_lock(card, target.member) as waited:
        receipt = till_buy(card, store, amount_yen=5_000)
        assert waited() >= 0.3
    assert receipt.card.member.pk == target.member.pk
    assert receipt.posting.account.member_id == target.member.pk
    assert Account.objects.get(member=target.member, programme=programme).balance == 10 + 50
    assert Account.objects.get(member=card.member, programme=programme).balance == 10
    assert ledger_problems(deep=True) == []
