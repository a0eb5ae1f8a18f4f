"""Campaigns, coupons and rallies: cost by funder from the ledger's bonus entries, participants, and their
purchases before and during."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from analytics.selectors import ReportFilter, promotions_report
from analytics.tests.helpers import TODAY, buy, member_card, noon, refresh, today_is, void
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from common.privacy import SMALL_GROUP
from points.models import Entry, Funder
from rallies.tests.factories import RallyFactory, RallyGoalFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def campaign(programme):
    return CampaignFactory(
        programme=programme,
        name="六月の5ポイント",
        kind=Campaign.Kind.FIXED,
        fixed_points=5,
        funder=Funder.STORE,
        starts_at=noon(D(2026, 6, 1), 0),
        ends_at=noon(D(2026, 7, 1), 0),
    )


@pytest.fixture
def shoppers(programme, store, campaign):
    """Five members spend 1,000 yen each in May and 3,000 yen each in June, during the campaign."""
    cards = [member_card(gender="female") for _ in range(5)]
    for card in cards:
        buy(card, store, D(2026, 5, 20), amount_yen=1_000)
        buy(card, store, D(2026, 6, 5), amount_yen=3_000)
    return cards


def report(**changes):
    refresh()
    with today_is():
        return promotions_report(ReportFilter(start=D(2026, 6, 1), end=TODAY, **changes))


def test_a_campaigns_cost_participants_and_their_purchases(shoppers, campaign):
    [line] = report().lines
    bonuses = Entry.objects.filter(kind="bonus", funder=Funder.STORE).aggregate(n=Sum("points"))["n"]
    assert (line.name, line.participants, line.store_points, line.secretariat_points) == (
        "六月の5ポイント",
        5,
        bonuses,
        0,
    )
    assert bonuses == 25
    # 15 days of the campaign so far (1–15 June), and the 15 days before it (17–31 May)
    assert (line.purchases_before_yen, line.purchases_during_yen) == (5_000, 15_000)
    assert (line.per_member_before_yen, line.per_member_during_yen, line.change) == (1_000, 3_000, Decimal("200.0"))


def test_bonuses_taken_back_with_their_purchase_cost_nothing(shoppers, campaign):
    earn = shoppers[0].member.accounts.get().entries.filter(kind="earn", amount_yen=3_000).get()
    void(earn, TODAY)

    [line] = report().lines

    assert line.store_points == 20


def test_the_participants_are_those_of_the_stores_and_attributes_chosen(shoppers, campaign, store, other_store):
    assert report(store_ids=frozenset({store.pk}), gender="female").lines[0].participants == 5
    assert report(store_ids=frozenset({other_store.pk})).lines[0].participants == 0
    assert report(gender="male").lines[0].participants == 0
    assert report(postal_prefix="999").lines[0].participants == 0


def test_a_small_campaign_shows_none_of_its_figures(programme, store, campaign):
    for _ in range(3):
        buy(member_card(), store, D(2026, 6, 5))
    [line] = report().lines
    assert (line.participants, line.store_points, line.purchases_during_yen) == (SMALL_GROUP,) * 3
    assert report().chart.series[1].values == [SMALL_GROUP]


def test_rallies_count_members_with_a_stamp(programme, store, shoppers):
    rally = RallyFactory(
        programme=programme, store_ids=[store.pk], starts_at=noon(D(2026, 6, 1), 0), ends_at=noon(D(2026, 7, 1), 0)
    )
    RallyGoalFactory(rally=rally, target=1, bonus_points=10, funder=Funder.SECRETARIAT)
    for card in shoppers:
        buy(card, store, D(2026, 6, 10))

    lines = {line.kind: line for line in report().lines}

    assert (lines["rally"].participants, lines["rally"].secretariat_points) == (5, 50)


def test_drafts_and_promotions_outside_the_period_are_not_listed(programme, campaign):
    CampaignFactory(
        programme=programme, status=Campaign.Status.DRAFT, starts_at=noon(D(2026, 6, 1)), ends_at=noon(D(2026, 6, 9))
    )
    CampaignFactory(programme=programme, starts_at=noon(D(2026, 1, 1)), ends_at=noon(D(2026, 2, 1)))
    assert [line.name for line in report().lines] == ["六月の5ポイント"]
