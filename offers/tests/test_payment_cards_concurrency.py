"""Members linking payment cards at the same moment, on PostgreSQL with real threads: the limit per member
holds exactly, and a token goes to one member only, the other refused with the usual message."""

import pytest

from members.tests.factories import MemberFactory
from offers.models import PaymentCard
from offers.services import PAYMENT_CARDS_PER_MEMBER, PaymentCardError, payment_card_link
from points.tests.test_concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_member_linking_many_cards_at_once_links_exactly_the_limit():
    member = MemberFactory()
    tries = PAYMENT_CARDS_PER_MEMBER + 3

    results = run_at_once(tries, lambda i: payment_card_link(member=member, token=f"tok_at_once_{i:04}"))

    refused = [result for result in results if isinstance(result, Exception)]
    assert all(isinstance(result, PaymentCardError) and result.code == "payment_cards_full" for result in refused)
    assert len(refused) == tries - PAYMENT_CARDS_PER_MEMBER
    assert PaymentCard.objects.filter(member=member).count() == PAYMENT_CARDS_PER_MEMBER


def test_two_members_linking_the_same_token_at_once_one_gets_it():
    members = [MemberFactory() for _ in range(4)]

    results = run_at_once(4, lambda i: payment_card_link(member=members[i], token="tok_shared_0001"))

    linked = [result for result in results if isinstance(result, PaymentCard)]
    refused = [result for result in results if isinstance(result, Exception)]
    assert len(linked) == 1 and len(refused) == 3, results
    assert all(isinstance(result, PaymentCardError) and result.code == "card_token_taken" for result in refused)
    assert PaymentCard.objects.get().member_id == linked[0].member_id
