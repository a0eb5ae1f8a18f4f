import pytest

from points.services import points_earn, points_spend
from points.tests.factories import make_card


@pytest.fixture
def ledger(card, store):
    """Two members' points: one earned and partly spent, one earned."""
    points_earn(card=card, store=store, amount_yen=10_000, idempotency_key="e1")
    points_spend(card=card, store=store, points=30, idempotency_key="s1")
    other = make_card()
    points_earn(card=other, store=store, amount_yen=5_000, idempotency_key="e2")
    return card, other
