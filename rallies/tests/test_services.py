import datetime

import pytest
from django.utils import timezone, translation

from points.models import Account, Entry, Funder
from points.services import points_earn
from rallies.models import GoalReached, Rally, RallyGoal, Stamp
from rallies.services import rallies_after_earn, rallies_running
from rallies.tests.factories import RallyFactory, RallyGoalFactory, buy, void

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def rally_of(stores, programme, *, goal=5, **fields):
    rally = RallyFactory(programme=programme, store_ids=[store.pk for store in stores], **fields)
    if goal:
        RallyGoalFactory(rally=rally, name=f"{goal}店舗達成", target=goal)
    return rally


def live_stamps(card) -> int:
    return Stamp.objects.filter(member_id=card.member_id, voided_at__isnull=True).count()


def bonuses(posting) -> list[Entry]:
    return [entry for entry in posting.entries if entry.kind == Entry.Kind.BONUS]


# --- stamps ----------------------------------------------------------------------------------


def test_the_receipt_shows_the_stamp_and_the_progress_towards_the_goal(programme, stores, card):
    # given
    rally_of(stores[:5], programme, name="夏の商店街ラリー")
    buy(card, stores[0])
    buy(card, stores[1])
    # when
    with translation.override("en"):
        _posting, lines = buy(card, stores[2])
    # then
    assert lines == [
        {
            "rally": "夏の商店街ラリー",
            "stamp": True,
            "goal_name": "5店舗達成",
            "stamped": 3,
            "goal": 5,
            "unit": "stores",
            "progress": "3/5",
            "text": "3/5 stores",
            "stores_stamped": 3,
            "reached": [],
            "stamp_removed": False,
            "taken_back": [],
        }
    ]


def test_a_second_purchase_at_the_same_store_the_same_day_gives_no_stamp(programme, stores, card):
    # given
    rally_of(stores[:5], programme)
    buy(card, stores[0])
    # when
    _posting, lines = buy(card, stores[0])
    # then
    assert (lines[0]["stamp"], lines[0]["progress"]) == (False, "1/5")
    assert live_stamps(card) == 1


def test_the_next_day_the_same_store_gives_a_stamp_again(programme, stores, card):
    # given
    rally_of(stores[:5], programme, goal=None)
    RallyGoalFactory(rally=Rally.objects.get(), kind=RallyGoal.Kind.STAMPS, target=10)
    now = timezone.now()
    buy(card, stores[0], at=now - DAY)
    # when
    _posting, lines = buy(card, stores[0], at=now)
    # then
    assert lines[0]["stamp"] is True
    assert (lines[0]["progress"], lines[0]["unit"], lines[0]["stores_stamped"]) == ("2/10", "stamps", 1)


def test_once_per_store_gives_no_stamp_on_a_later_day(programme, stores, card):
    # given
    rally_of(stores[:5], programme, stamp_per=Rally.StampPer.STORE)
    now = timezone.now()
    buy(card, stores[0], at=now - DAY)
    # when
    _posting, lines = buy(card, stores[0], at=now)
    # then
    assert lines[0]["stamp"] is False
    assert live_stamps(card) == 1


def test_once_per_purchase_stamps_every_qualifying_purchase(programme, stores, card):
    # given
    rally_of(stores[:5], programme, stamp_per=Rally.StampPer.PURCHASE)
    buy(card, stores[0])
    # when
    _posting, lines = buy(card, stores[0])
    # then
    assert lines[0]["stamp"] is True
    assert live_stamps(card) == 2
    # The goal counts different stores: still one.
    assert lines[0]["progress"] == "1/5"


def test_a_purchase_below_the_minimum_gives_no_stamp_but_shows_the_progress(programme, stores, card):
    # given
    rally_of(stores[:5], programme, min_amount_yen=1_000)
    buy(card, stores[0], amount_yen=1_000)
    # when
    _posting, lines = buy(card, stores[1], amount_yen=999)
    # then
    assert (lines[0]["stamp"], lines[0]["progress"]) == (False, "1/5")
    assert live_stamps(card) == 1


def test_a_store_outside_the_rally_gives_no_stamp_and_no_line(programme, stores, card):
    # given
    rally_of(stores[:5], programme)
    # when
    _posting, lines = buy(card, stores[5])
    # then
    assert lines == []
    assert live_stamps(card) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Rally.Status.DRAFT},
        {"status": Rally.Status.CLOSED},
        {"starts_at": timezone.now() + DAY, "ends_at": timezone.now() + 10 * DAY},
    ],
    ids=["draft", "closed", "not-started"],
)
def test_a_rally_not_running_gives_nothing(programme, stores, card, fields):
    # given
    rally_of(stores[:5], programme, **fields)
    # when
    _posting, lines = buy(card, stores[0])
    # then
    assert lines == []
    assert live_stamps(card) == 0


def test_a_retried_earning_gives_no_second_stamp_or_bonus(programme, stores, card):
    # given
    rally_of(stores[:2], programme, goal=1)
    first, _lines = buy(card, stores[0], key="same-key")
    # when
    again, lines = buy(card, stores[0], key="same-key")
    # then
    assert again.replayed and lines == []
    assert live_stamps(card) == 1
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1


def test_no_running_rally_costs_one_query(programme, stores, card, django_assert_num_queries):
    # given
    rally_of(stores[:5], programme, status=Rally.Status.DRAFT)
    posting = points_earn(card=card, store=stores[0], amount_yen=1_000, idempotency_key="cheap")
    # The process's copy of the rallies is loaded once; then one query asks whether they changed.
    rallies_running(programme_id=programme.pk, at=timezone.now())
    # when
    with django_assert_num_queries(1):
        lines = rallies_after_earn(posting=posting, store=stores[0], amount_yen=1_000, occurred_at=timezone.now())
    # then
    assert lines == []


# --- goals -----------------------------------------------------------------------------------


def test_reaching_the_goal_gives_its_bonus_on_the_earning(programme, stores, card):
    # given
    rally = rally_of(stores[:5], programme, goal=None, name="秋ラリー")
    RallyGoalFactory(rally=rally, name="2店舗賞", target=2, bonus_points=300, funder=Funder.SECRETARIAT)
    buy(card, stores[0])
    # when
    posting, lines = buy(card, stores[1])
    # then
    assert lines[0]["reached"] == ["2店舗賞"]
    assert [(e.points, e.reason, e.funder) for e in bonuses(posting)] == [(300, "秋ラリー 2店舗賞", "secretariat")]
    assert Account.objects.get(member_id=card.member_id).balance == 10 + 10 + 300


def test_a_goal_rewards_once_only(programme, stores, card):
    # given
    rally_of(stores[:5], programme, goal=2)
    buy(card, stores[0])
    buy(card, stores[1])
    # when
    later = [buy(card, store) for store in stores[2:5]]
    # then
    assert [bonuses(posting) for posting, _lines in later] == [[], [], []]
    assert [lines[0]["reached"] for _posting, lines in later] == [[], [], []]
    assert GoalReached.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1


def test_the_receipt_counts_towards_the_next_goal_once_one_is_reached(programme, stores, card):
    # given
    rally = rally_of(stores[:5], programme, goal=None)
    RallyGoalFactory(rally=rally, name="2店舗賞", target=2, position=1)
    RallyGoalFactory(rally=rally, name="5店舗賞", target=5, position=2)
    buy(card, stores[0])
    # when
    _posting, lines = buy(card, stores[1])
    # then
    assert (lines[0]["reached"], lines[0]["goal_name"], lines[0]["progress"]) == (["2店舗賞"], "5店舗賞", "2/5")


def test_an_area_goal_needs_every_store_of_the_area(programme, stores, card):
    # given
    rally = rally_of(stores, programme, goal=None)
    area = stores[:3]
    RallyGoalFactory(
        rally=rally,
        name="駅前制覇",
        kind=RallyGoal.Kind.ALL_STORES_OF,
        target=None,
        area_store_ids=[s.pk for s in area],
    )
    for store in [area[0], stores[4], stores[5], area[1]]:
        buy(card, store)
    assert not GoalReached.objects.exists()
    # when
    _posting, lines = buy(card, area[2])
    # then
    assert (lines[0]["reached"], lines[0]["progress"], lines[0]["stores_stamped"]) == (["駅前制覇"], "3/3", 5)


def test_an_area_goal_shows_progress_in_the_area_only(programme, stores, card):
    # given
    rally = rally_of(stores, programme, goal=None)
    RallyGoalFactory(
        rally=rally, kind=RallyGoal.Kind.ALL_STORES_OF, target=None, area_store_ids=[stores[0].pk, stores[1].pk]
    )
    buy(card, stores[4])
    # when
    _posting, lines = buy(card, stores[0])
    # then
    assert (lines[0]["progress"], lines[0]["stores_stamped"]) == ("1/2", 2)


def test_a_draw_goal_gives_an_entry_and_no_points(programme, stores, card):
    # given
    rally = rally_of(stores[:5], programme, goal=None)
    RallyGoalFactory(rally=rally, name="抽選応募", target=1, reward=RallyGoal.Reward.DRAW, bonus_points=0)
    # when
    posting, lines = buy(card, stores[0])
    # then
    assert lines[0]["reached"] == ["抽選応募"]
    assert bonuses(posting) == []
    assert GoalReached.objects.get().reward == RallyGoal.Reward.DRAW


# --- voids -----------------------------------------------------------------------------------


def test_a_void_removes_the_purchases_stamp(programme, stores, card):
    # given
    rally_of(stores[:5], programme)
    buy(card, stores[0])
    posting, _lines = buy(card, stores[1])
    # when
    lines = void(posting)
    # then
    assert [(line["stamp_removed"], line["progress"], line["taken_back"]) for line in lines] == [(True, "1/5", [])]
    assert live_stamps(card) == 1
    _posting, lines = buy(card, stores[2])
    assert lines[0]["progress"] == "2/5"


def test_after_a_void_the_same_store_can_stamp_again_the_same_day(programme, stores, card):
    # given
    rally_of(stores[:5], programme)
    posting, _lines = buy(card, stores[0])
    void(posting)
    # when
    _posting, lines = buy(card, stores[0])
    # then
    assert (lines[0]["stamp"], lines[0]["progress"]) == (True, "1/5")


def test_a_void_of_the_purchase_that_reached_the_goal_takes_the_reward_back(programme, stores, card):
    # given
    rally_of(stores[:5], programme, goal=2)
    buy(card, stores[0])
    reaching, _lines = buy(card, stores[1])
    # when
    lines = void(reaching)
    # then
    assert (lines[0]["taken_back"], lines[0]["progress"]) == (["2店舗達成"], "1/2")
    assert GoalReached.objects.get().revoked_at is not None
    assert Account.objects.get(member_id=card.member_id).balance == 10
    # ...and the goal is reached, and rewarded, again with the next store.
    again, lines = buy(card, stores[2])
    assert lines[0]["reached"] == ["2店舗達成"]
    assert [e.points for e in bonuses(again)] == [100]


def test_a_void_of_an_earlier_purchase_keeps_the_reward(programme, stores, card):
    # given
    rally_of(stores[:5], programme, goal=2)
    earlier, _lines = buy(card, stores[0])
    buy(card, stores[1])
    # when
    lines = void(earlier)
    # then
    assert (lines[0]["taken_back"], lines[0]["progress"]) == ([], "1/2")
    assert GoalReached.objects.filter(revoked_at__isnull=True).count() == 1
    assert Account.objects.get(member_id=card.member_id).balance == 10 + 100
    # Back at the goal with another store: nothing more.
    posting, lines = buy(card, stores[2])
    assert (lines[0]["reached"], bonuses(posting)) == ([], [])


def test_a_refund_keeps_the_stamp_while_the_purchase_still_qualifies(programme, stores, card):
    # given
    rally_of(stores[:5], programme, min_amount_yen=1_000)
    posting, _lines = buy(card, stores[0], amount_yen=3_000)
    # when
    lines = void(posting, refund_amount_yen=2_000)
    # then
    assert lines == []
    assert live_stamps(card) == 1


def test_a_refund_below_the_minimum_removes_the_stamp(programme, stores, card):
    # given
    rally_of(stores[:5], programme, min_amount_yen=1_000)
    posting, _lines = buy(card, stores[0], amount_yen=3_000)
    # when
    lines = void(posting, refund_amount_yen=2_001)
    # then
    assert lines[0]["stamp_removed"] is True
    assert live_stamps(card) == 0
