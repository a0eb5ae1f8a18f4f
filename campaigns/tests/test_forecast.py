"""The forecast: a campaign replayed over the last weeks of real earnings gives what the till would have given."""

import datetime
import random
from dataclasses import dataclass

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from campaigns.forecast import campaign_forecast
from campaigns.models import Campaign, CampaignApplication
from campaigns.tests.factories import CampaignFactory
from coupons.tests import helpers as coupon_helpers
from members.tests.factories import CardFactory, MemberFactory
from points.models import Entry, Funder
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from stores.models import Store
from till.tests.helpers import till_buy

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
_keys = iter(range(10**9))


def earn(card, store, amount_yen, occurred_at=None):
    return till_buy(card, store, amount_yen=amount_yen, key=f"fc-{next(_keys)}", at=occurred_at).posting


@pytest.fixture
def recorded_at(monkeypatch):
    """Earnings made inside the block are recorded at the given moment (the ledger stamps timezone.now())."""

    class Clock:
        def __init__(self, moment):
            self.moment = moment

        def __enter__(self):
            monkeypatch.setattr(timezone, "now", lambda: self.moment)

        def __exit__(self, *exc):
            monkeypatch.undo()

    return Clock


def noon(days_ago: int) -> datetime.datetime:
    """Noon in Tokyo, `days_ago` days before today."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=TOKYO)


def draft(programme, **conditions) -> Campaign:
    """A campaign not running (a draft whose period has not begun): only its conditions should count."""
    starts = timezone.now() + datetime.timedelta(days=30)
    return CampaignFactory(
        programme=programme,
        status=Campaign.Status.DRAFT,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(days=7),
        **conditions,
    )


# --- the forecast equals a replay at the till -------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What the rules know of a member; None for a card nobody has registered."""

    gender: str = ""
    birth_date: datetime.date | None = None
    postal_code: str = ""


def birthday_this_month(year: int) -> datetime.date:
    return datetime.date(year, timezone.localdate().month, 1)


PROFILES = [
    Profile("female", datetime.date(1980, 5, 3), "100-0001"),
    Profile("female", datetime.date(1995, 11, 20), "150-0002"),
    Profile("male", datetime.date(1960, 1, 9), "100-0005"),
    Profile("female", birthday_this_month(1975), "101-0021"),
    None,
]

CAMPAIGNS = {
    "triple points for women over 30 at bakeries, capped": dict(
        multiplier_percent=300,
        categories=[Store.Category.BAKERY],
        genders=["female"],
        age_min=30,
        min_amount_yen=500,
        cap_per_member_day=60,
        cap_per_member=150,
    ),
    "a fixed bonus on a first visit, till the budget runs out": dict(
        kind=Campaign.Kind.FIXED, fixed_points=50, first_purchase_at_store=True, budget_points=420
    ),
    "store-funded evenings for registered members near the station": dict(
        multiplier_percent=150,
        hour_from=15,
        hour_to=21,
        weekdays=[0, 2, 4, 5, 6],
        registered=Campaign.Registered.REGISTERED,
        postal_prefixes=["100", "101"],
        funder=Funder.STORE,
    ),
    "birthday month, any store but the café": dict(
        kind=Campaign.Kind.FIXED, fixed_points=25, birthday_month=True, excluded_categories=[Store.Category.CAFE]
    ),
}


def holders(programme) -> list:
    """One card per profile, on a new member with the same attributes."""
    cards = []
    for profile in PROFILES:
        if profile is None:
            cards.append(make_card())
            continue
        member = MemberFactory(gender=profile.gender, birth_date=profile.birth_date, postal_code=profile.postal_code)
        cards.append(CardFactory(member=member))
    return cards


def purchases(count: int = 60) -> list[tuple[int, int, int, datetime.datetime]]:
    """(holder, store, yen, moment): three weeks of shopping at three stores, in no particular order."""
    rng = random.Random(5)
    now = timezone.now()
    return [
        (
            rng.randrange(len(PROFILES)),
            rng.randrange(3),
            rng.choice([300, 800, 1_500, 4_000, 12_000]),
            now - datetime.timedelta(days=rng.randrange(21), hours=rng.randrange(24), minutes=rng.randrange(60)),
        )
        for _ in range(count)
    ]


def what_the_till_gave(campaign) -> dict:
    given = CampaignApplication.objects.filter(campaign=campaign)
    totals = given.aggregate(matched=Count("pk"), points=Sum("points"), members=Count("member", distinct=True))
    by_funder = dict.fromkeys(Funder.values, 0)
    bonuses = Entry.objects.filter(kind=Entry.Kind.BONUS, pk__in=given.values("bonus"))
    by_funder.update(bonuses.values_list("funder").annotate(points=Sum("points")))
    return {
        "matched": totals["matched"],
        "bonus_points": totals["points"] or 0,
        "members": totals["members"],
        "by_funder": by_funder,
    }


@pytest.mark.parametrize("conditions", CAMPAIGNS.values(), ids=CAMPAIGNS.keys())
def test_the_forecast_gives_what_the_till_gives_for_the_same_purchases(programme, conditions):
    # given: three weeks of purchases by members of every kind while the campaign is only a draft
    stores = [
        join(StoreFactory(category=category), programme)
        for category in (Store.Category.BAKERY, Store.Category.BAKERY, Store.Category.CAFE)
    ]
    campaign = draft(programme, **conditions)
    shopping = purchases()
    past = holders(programme)
    for holder, store, yen, moment in shopping:
        earn(past[holder], stores[store], yen, moment)
    assert not Entry.objects.filter(kind=Entry.Kind.BONUS).exists()

    # when: the forecast is made, then the campaign runs and the same purchases come again on new cards
    forecast = campaign_forecast(campaign=campaign, weeks=4)
    campaign.status = Campaign.Status.ACTIVE
    campaign.starts_at = timezone.now() - datetime.timedelta(days=30)
    campaign.save()
    again = holders(programme)
    for holder, store, yen, moment in sorted(shopping, key=lambda purchase: purchase[3]):
        earn(again[holder], stores[store], yen, moment)

    # then: the forecast is what the till gave
    assert forecast.transactions == len(shopping)
    assert forecast.matched > 0
    given = what_the_till_gave(campaign)
    assert {
        "matched": forecast.matched,
        "bonus_points": forecast.bonus_points,
        "members": forecast.members,
        "by_funder": forecast.by_funder,
    } == given
    assert forecast.cost_yen == forecast.bonus_points


# --- caps, budget, first purchase, items, window ---------------------------------------------


def test_the_caps_per_member_and_day_and_per_member_limit_the_forecast(programme, store, card):
    for days_ago in (3, 3, 2, 2, 1):
        earn(card, store, 1_000, noon(days_ago))
    campaign = draft(programme, kind=Campaign.Kind.FIXED, fixed_points=10, cap_per_member_day=15, cap_per_member=28)

    forecast = campaign_forecast(campaign=campaign)

    # 3 days ago 10 + 5 (the day's cap), 2 days ago 10 + 3 (the member's cap), yesterday nothing.
    assert (forecast.matched, forecast.bonus_points, forecast.members) == (4, 28, 1)


def test_the_budget_stops_the_forecast_and_the_notes_say_when(programme, store):
    cards = [CardFactory(), CardFactory()]
    for days_ago, holder in ((5, 0), (4, 1), (3, 0), (2, 1)):
        earn(cards[holder], store, 1_000, noon(days_ago))
    campaign = draft(programme, kind=Campaign.Kind.FIXED, fixed_points=10, budget_points=25)

    forecast = campaign_forecast(campaign=campaign)

    assert (forecast.matched, forecast.bonus_points, forecast.cost_yen) == (3, 25, 25)
    ran_out = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    assert f"予算は {ran_out} に尽きていたはずです。" in forecast.notes


def test_a_first_purchase_counts_the_earnings_before_the_window(programme, store, card, recorded_at):
    other = join(StoreFactory(category=Store.Category.CAFE), programme)
    with recorded_at(timezone.now() - datetime.timedelta(weeks=6)):
        earn(card, store, 1_000)
    earn(card, store, 1_000, noon(3))
    earn(card, other, 1_000, noon(2))
    earn(card, other, 1_000, noon(1))
    campaign = draft(programme, kind=Campaign.Kind.FIXED, fixed_points=100, first_purchase_at_store=True)

    forecast = campaign_forecast(campaign=campaign, weeks=4)

    # The store was visited six weeks ago; only the first visit to the café counts.
    assert (forecast.transactions, forecast.matched, forecast.bonus_points) == (3, 1, 100)


def test_a_campaign_on_item_categories_counts_the_purchases_sent_with_such_items(programme, store, card):
    # given purchases whose till sent a bread item, only milk, or no items at all
    for days_ago, categories in ((3, ["bread", "milk"]), (2, ["milk"]), (1, [])):
        coupon_helpers.earn(card, store, at=noon(days_ago), categories=categories)
    campaign = draft(programme, kind=Campaign.Kind.FIXED, fixed_points=10, item_categories=["bread"])

    forecast = campaign_forecast(campaign=campaign)

    assert (forecast.transactions, forecast.matched, forecast.bonus_points) == (3, 1, 10)
    assert "品目カテゴリは、端末が品目を送った取引についてのみわかります。" in forecast.notes


def test_only_earnings_recorded_in_the_weeks_asked_for_are_replayed(programme, store, card, recorded_at):
    with recorded_at(timezone.now() - datetime.timedelta(weeks=5)):
        earn(card, store, 2_000)
    earn(card, store, 1_000, noon(1))
    campaign = draft(programme)

    four, six = campaign_forecast(campaign=campaign, weeks=4), campaign_forecast(campaign=campaign, weeks=6)

    assert (four.weeks, four.transactions, four.bonus_points) == (4, 1, 10)
    assert (six.weeks, six.transactions, six.bonus_points) == (6, 2, 30)


def test_earnings_of_another_programme_are_left_out(programme, store, card):
    elsewhere = join(StoreFactory(), ProgrammeFactory(code="OTHER"))
    earn(card, store, 1_000, noon(1))
    earn(CardFactory(), elsewhere, 5_000, noon(1))

    forecast = campaign_forecast(campaign=draft(programme))

    assert (forecast.transactions, forecast.bonus_points, forecast.by_funder) == (
        1,
        10,
        {Funder.STORE: 0, Funder.SECRETARIAT: 10},
    )


def test_member_attributes_are_read_without_personal_data(programme, store, django_assert_max_num_queries):
    earn(CardFactory(member=MemberFactory(gender="male")), store, 1_000, noon(1))
    earn(CardFactory(member=MemberFactory(gender="female")), store, 1_000, noon(1))
    campaign = draft(programme, genders=["female"])

    with django_assert_max_num_queries(6) as captured:
        forecast = campaign_forecast(campaign=campaign)

    assert (forecast.matched, forecast.members) == (1, 1)
    member_reads = [query["sql"] for query in captured.captured_queries if 'FROM "members_member"' in query["sql"]]
    assert len(member_reads) == 1
    assert all(column not in member_reads[0] for column in ('"name"', '"phone"', '"birth_date"', '"email"'))
