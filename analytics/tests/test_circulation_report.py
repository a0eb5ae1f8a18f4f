"""Circulation: points issued at one store and spent at another, as the lots and their uses record them."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from analytics.selectors import CATEGORY, SPENT, STORE, ReportFilter, circulation_report
from analytics.tests.helpers import TODAY, buy, member_card, pay, refresh, today_is, void
from common.privacy import SMALL_GROUP
from points.models import LotUse
from points.tests.factories import StoreFactory, join
from stores.models import Store

pytestmark = pytest.mark.django_db

MAY = datetime.date(2026, 5, 10)


@pytest.fixture
def cafe(programme):
    return join(StoreFactory(name="喫茶ひかり", category=Store.Category.CAFE), programme)


@pytest.fixture
def spends(programme, store, other_store, cafe):
    """Five members earn 20 points at the store; each spends 6 at the café and 4 at the store itself; a sixth
    earns and spends 3 at the other store."""
    cards = [member_card() for _ in range(5)]
    for card in cards:
        buy(card, store, MAY, amount_yen=2_000)
        pay(card, cafe, datetime.date(2026, 6, 1), 6)
        pay(card, store, datetime.date(2026, 6, 2), 4)
    loner = member_card()
    buy(loner, store, MAY, amount_yen=1_000)
    spent = pay(loner, other_store, datetime.date(2026, 6, 3), 3)
    refresh()
    return cards, spent


def report(**options):
    with today_is():
        return circulation_report(ReportFilter(start=MAY.replace(day=1), end=TODAY), **options)


def test_the_matrix_follows_each_lot_to_where_it_was_spent(spends, store, other_store, cafe):
    result = report(level=STORE)
    pairs = {(pair.issued_at, pair.spent_at): pair.points for pair in result.pairs}
    assert pairs == {
        (store.name, cafe.name): 30,
        (store.name, store.name): 20,
        (store.name, other_store.name): SMALL_GROUP,
    }
    # what the lots gave, from the ledger
    assert result.total == LotUse.objects.filter(entry__kind="spend").aggregate(n=Sum("points"))["n"] == 53


def test_the_share_spent_at_another_store(spends):
    result = report(level=STORE)
    assert (result.total_elsewhere, result.share_elsewhere) == (33, Decimal("62.3"))  # 33 of 53
    [origin] = result.origins
    assert (origin.points, origin.elsewhere, origin.share_elsewhere) == (53, 33, Decimal("62.3"))


def test_by_category(spends):
    cells = {(pair.issued_at, pair.spent_at): pair.points for pair in report(level=CATEGORY).pairs}
    # the store and the other store are bakeries
    assert cells == {("ベーカリー", "カフェ"): 30, ("ベーカリー", "ベーカリー"): 23}


def test_a_voided_spend_gives_its_points_back_to_where_they_came_from(spends, store, cafe):
    cards, _spent = spends
    spend = cards[0].member.accounts.get().entries.filter(kind="spend", store=cafe).get()
    void(spend, TODAY)
    refresh()
    pairs = {(pair.issued_at, pair.spent_at): pair.points for pair in report(level=STORE).pairs}
    assert pairs[(store.name, cafe.name)] == 24


def test_the_points_spent_at_a_store_and_where_they_came_from(spends, store, cafe):
    with today_is():
        result = circulation_report(
            ReportFilter(start=MAY.replace(day=1), end=TODAY, store_ids=frozenset({cafe.pk})), level=STORE, side=SPENT
        )
    assert [(pair.issued_at, pair.spent_at, pair.points) for pair in result.pairs] == [(store.name, cafe.name, 30)]


def test_the_heatmap_has_the_places_and_hides_small_groups(spends, store, other_store, cafe):
    chart = report(level=STORE).chart
    assert chart.rows == [store.name]
    assert chart.columns == [cafe.name, store.name, other_store.name]
    assert chart.cells == [[30, 20, SMALL_GROUP]]
