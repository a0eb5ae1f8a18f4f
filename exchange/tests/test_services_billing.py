"""Exchanges are the secretariat's, not a store's: the monthly close still ties out with them in the
ledger, and bills no store for them."""

import pytest

from billing.models import Statement
from billing.services import period_close
from billing.tests.factories import BillingSettingsFactory, after_period, earn, make_card, this_period
from exchange.services import exchange_cancel, exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, WindowRuleFactory, stock
from points.tests.factories import StoreFactory, join

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_monthly_close_ties_out_with_exchanges_and_their_cancellations(staff):
    billing = BillingSettingsFactory()
    programme = billing.programme
    store = join(StoreFactory(name="ひかりベーカリー"), programme)
    card = make_card()
    earn(card, store, 1_000_000)
    WindowRuleFactory(programme=programme)
    counter = CounterFactory(programme=programme)
    item = stock(ItemFactory(programme=programme), 5)
    kept = exchange_create(
        member=card.member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="kept", at=OPEN
    )
    cancelled = exchange_create(
        member=card.member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="undone", at=OPEN
    )
    exchange_cancel(exchange=cancelled, staff=staff, reason="取消")
    year, month = this_period(billing)

    result = period_close(programme=programme, year=year, month=month, now=after_period(billing, year, month))

    tie = result.tie_out
    assert tie["ties_out"] is True
    assert tie["ledger_movement_by_kind"]["exchange"] == -(kept.points + cancelled.points)
    assert tie["outstanding_after"] - tie["outstanding_before"] == tie["ledger_movement"]
    # The store is billed for the points it issued, and for nothing of the exchange.
    assert tie["statement_points"] == tie["ledger_points_at_stores"]
    assert Statement.objects.get(store=store).lines.filter(kind__startswith="void").count() == 0
