"""Campaign bonuses at the till: each condition, stacking and exclusion, budget and caps, funding."""

import datetime
import itertools
import zoneinfo

import pytest

from campaigns.models import Campaign, CampaignApplication
from campaigns.tests.factories import CampaignFactory
from members.tests.factories import CardFactory, ProvisionalMemberFactory
from points.models import Entry, Funder
from points.tests.factories import StoreFactory, join
from points.verification import ledger_problems
from till.tests.helpers import till_buy

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
_keys = itertools.count()
# A Friday in May, 14:30 in Tokyo.
FRIDAY = datetime.datetime(2026, 5, 15, 14, 30, tzinfo=TOKYO)


def earn(card, store, amount=10_000, at=FRIDAY, items=()):
    """1 point per 100 yen at the test stores: 10,000 yen earns 100 base points."""
    return till_buy(card, store, amount_yen=amount, at=at, key=f"c-{next(_keys)}", categories=items).posting


def bonuses(posting):
    return [(e.reason, e.points, e.funder) for e in posting.entries if e.kind == Entry.Kind.BONUS]


def campaign(programme, **conditions):
    defaults = {"starts_at": FRIDAY - datetime.timedelta(days=10), "ends_at": FRIDAY + datetime.timedelta(days=10)}
    return CampaignFactory(programme=programme, **{**defaults, **conditions})


def test_a_double_points_campaign_gives_the_base_points_again_with_its_name(programme, store, card):
    campaign(programme, name="春のダブルポイント")

    posting = earn(card, store)

    assert bonuses(posting) == [("春のダブルポイント", 100, Funder.SECRETARIAT)]
    assert posting.account.balance == 200
    why = CampaignApplication.objects.get().reason
    assert "2026-05-15 14時台" in why


def test_a_fixed_bonus(programme, store, card):
    campaign(programme, kind=Campaign.Kind.FIXED, fixed_points=30)

    assert [b[1] for b in bonuses(earn(card, store))] == [30]


@pytest.mark.parametrize(
    ("conditions", "applies"),
    [
        ({"starts_at": FRIDAY + datetime.timedelta(minutes=1)}, False),
        ({"ends_at": FRIDAY}, False),  # half-open: the end itself is outside
        ({"weekdays": [4]}, True),
        ({"weekdays": [5, 6]}, False),
        ({"hour_from": 14, "hour_to": 15}, True),
        ({"hour_from": 15}, False),
        ({"hour_to": 14}, False),
        ({"categories": ["bakery"]}, True),
        ({"categories": ["books"]}, False),
        ({"excluded_categories": ["bakery"]}, False),
        ({"genders": ["female"]}, True),
        ({"genders": ["male"]}, False),
        ({"age_min": 36, "age_max": 36}, True),  # born May 1990: 36 in May 2026
        ({"age_min": 37}, False),
        ({"postal_prefixes": ["100"]}, True),
        ({"postal_prefixes": ["101"]}, False),
        ({"registered": Campaign.Registered.REGISTERED}, True),
        ({"registered": Campaign.Registered.UNREGISTERED}, False),
        ({"birthday_month": True}, True),
        ({"min_amount_yen": 10_000}, True),
        ({"min_amount_yen": 10_001}, False),
        ({"first_purchase_at_store": True}, True),
    ],
)
def test_each_condition_on_its_own(programme, store, card, conditions, applies):
    campaign(programme, **conditions)

    assert bool(bonuses(earn(card, store))) is applies


def test_stores_included_and_excluded(programme, store, card):
    other = join(StoreFactory(), programme)
    campaign(programme, store_ids=[store.pk], name="本店だけ")
    campaign(programme, excluded_store_ids=[store.pk], name="本店以外")

    assert [b[0] for b in bonuses(earn(card, store))] == ["本店だけ"]
    assert [b[0] for b in bonuses(earn(card, other))] == ["本店以外"]


def test_birthday_month_misses_other_months(programme, store, card):
    campaign(programme, birthday_month=True)

    assert bonuses(earn(card, store, at=FRIDAY + datetime.timedelta(days=30))) == []


def test_first_purchase_at_the_store_only_once(programme, store, card):
    campaign(programme, first_purchase_at_store=True, kind=Campaign.Kind.FIXED, fixed_points=50)

    first, second = earn(card, store), earn(card, store)

    assert ([b[1] for b in bonuses(first)], bonuses(second)) == ([50], [])


def test_item_categories_need_the_items_sent_by_the_terminal(programme, store, card):
    campaign(programme, item_categories=["wagashi"])

    assert bonuses(earn(card, store)) == []
    assert len(bonuses(earn(card, store, items=["wagashi", "drinks"]))) == 1
    assert "wagashi" in CampaignApplication.objects.get().reason


def test_an_unregistered_card_and_missing_attributes(programme, store):
    provisional = CardFactory(member=ProvisionalMemberFactory())
    campaign(programme, genders=["female"], name="女性")
    campaign(programme, registered=Campaign.Registered.UNREGISTERED, name="未登録カード", kind="fixed", fixed_points=5)

    assert [b[0] for b in bonuses(earn(provisional, store))] == ["未登録カード"]


def test_conditions_combine_all_must_hold(programme, store, card):
    campaign(programme, genders=["female"], weekdays=[4], min_amount_yen=5_000, birthday_month=True)
    campaign(programme, genders=["female"], weekdays=[4], min_amount_yen=50_000, name="高額")

    posting = earn(card, store)

    assert len(bonuses(posting)) == 1
    why = CampaignApplication.objects.get().reason
    assert "birthday month" in why or "誕生月" in why


def test_stacking_campaigns_each_give_in_priority_order(programme, store, card):
    campaign(programme, name="B", priority=20, kind="fixed", fixed_points=10)
    campaign(programme, name="A", priority=10)

    assert [b[0] for b in bonuses(earn(card, store))] == ["A", "B"]


def test_an_exclusive_campaign_that_applies_first_stands_alone(programme, store, card):
    campaign(programme, name="独占", priority=1, exclusive=True)
    campaign(programme, name="通常", priority=2)

    assert [b[0] for b in bonuses(earn(card, store))] == ["独占"]


def test_an_exclusive_campaign_after_others_have_applied_gives_nothing(programme, store, card):
    campaign(programme, name="通常", priority=1)
    campaign(programme, name="独占", priority=2, exclusive=True)

    assert [b[0] for b in bonuses(earn(card, store))] == ["通常"]


def test_the_budget_stops_the_campaign_exactly(programme, store, card):
    limited = campaign(programme, budget_points=250)

    given = [sum(b[1] for b in bonuses(earn(card, store))) for _ in range(4)]

    assert given == [100, 100, 50, 0]
    limited.refresh_from_db()
    assert limited.budget_used == 250


def test_caps_per_member_per_day_and_per_campaign(programme, store, card):
    campaign(programme, cap_per_member_day=150, cap_per_member=250)

    today = [sum(b[1] for b in bonuses(earn(card, store))) for _ in range(2)]
    tomorrow = [sum(b[1] for b in bonuses(earn(card, store, at=FRIDAY + datetime.timedelta(days=1)))) for _ in range(2)]

    assert (today, tomorrow) == ([100, 50], [100, 0])


def test_a_draft_or_paused_campaign_gives_nothing(programme, store, card):
    campaign(programme, status=Campaign.Status.DRAFT)
    campaign(programme, status=Campaign.Status.PAUSED)

    assert bonuses(earn(card, store)) == []


def test_a_store_funded_bonus_is_recorded_with_its_funder_and_the_ledger_holds(programme, store, card):
    campaign(programme, funder=Funder.STORE)

    posting = earn(card, store)

    assert bonuses(posting)[0][2] == Funder.STORE
    assert not ledger_problems(deep=True)


def test_a_retry_returns_the_bonuses_once(programme, store, card):
    campaign(programme)
    first = till_buy(card, store, amount_yen=10_000, key="same", at=FRIDAY).posting

    again = till_buy(card, store, amount_yen=10_000, key="same", at=FRIDAY).posting

    assert again.replayed and again.points == first.points == 200
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1


def test_a_void_takes_the_bonus_back_too(programme, store, card):
    from points.services import points_void

    campaign(programme)
    posting = earn(card, store)

    points_void(entry=posting.entries[0], idempotency_key="void-1")

    posting.account.refresh_from_db()
    assert posting.account.balance == 0


def test_unused_fixture_member_is_registered(member):
    # The conditions above rely on the fixture member being registered, born May 1990, female, in 100-0005.
    assert (member.status, member.birth_month, member.gender) == ("active", 5, "female")


def test_members_of_another_programme_are_not_affected(programme, store, card):
    from points.tests.factories import ProgrammeFactory

    other = ProgrammeFactory(code="OTHER")
    campaign(other)

    assert bonuses(earn(card, store)) == []


def test_a_partial_refund_takes_the_bonus_back_in_proportion(programme, store, card):
    from points.services import points_void

    campaign(programme)
    posting = earn(card, store)  # 100 base + 100 bonus on 10,000 yen

    points_void(entry=posting.entries[0], idempotency_key="refund-1", refund_amount_yen=2_500)

    posting.account.refresh_from_db()
    assert posting.account.balance == 150


def test_a_campaign_paused_after_an_earning_gives_nothing_at_the_next(programme, store, card):
    # given a running campaign that an earning has seen
    running = campaign(programme, name="秋のダブルポイント")
    assert bonuses(earn(card, store)) == [("秋のダブルポイント", 100, Funder.SECRETARIAT)]
    # when an operator pauses it (the admin saves it)
    running.status = Campaign.Status.PAUSED
    running.save()
    # then the next earning gets no bonus, and one made active again gives again
    assert bonuses(earn(card, store)) == []
    running.status = Campaign.Status.ACTIVE
    running.save()
    assert bonuses(earn(card, store)) == [("秋のダブルポイント", 100, Funder.SECRETARIAT)]
