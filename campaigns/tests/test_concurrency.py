"""A campaign's budget under concurrent earnings, on PostgreSQL with real threads."""

import itertools

import pytest
from django.utils import timezone

from campaigns.models import CampaignApplication
from campaigns.tests.factories import CampaignFactory
from members.tests.factories import CardFactory
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
_keys = itertools.count()


def test_concurrent_earnings_never_exceed_the_budget():
    programme = ProgrammeFactory()
    stores = [join(StoreFactory(), programme) for _ in range(2)]
    cards = [CardFactory() for _ in range(12)]
    limited = CampaignFactory(programme=programme, budget_points=1_050)  # ten and a half bonuses of 100
    now = timezone.now()

    def work(i):
        return till_buy(cards[i], stores[i % 2], amount_yen=10_000, key=f"b-{i}", at=now).posting

    results = run_at_once(12, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    limited.refresh_from_db()
    given = sum(CampaignApplication.objects.values_list("points", flat=True))
    assert limited.budget_used == given == 1_050
    assert sorted(CampaignApplication.objects.values_list("points", flat=True)) == [50] + [100] * 10
    assert not ledger_problems(deep=True)
