import pytest

from members.tests.factories import CardFactory
from rallies.models import RallyGoal
from rallies.selectors import rally_funnel, rally_goal_results, rally_participants, rally_stamps_per_store
from rallies.tests.factories import RallyFactory, RallyGoalFactory, buy, void

pytestmark = pytest.mark.django_db


@pytest.fixture
def rally(programme, stores):
    return RallyFactory(programme=programme, store_ids=[store.pk for store in stores[:4]])


def test_the_funnel_counts_members_at_least_k_stores_of_the_way(rally, stores):
    # given
    goal = RallyGoalFactory(rally=rally, target=3)
    visits = [stores[:1], stores[:2], stores[:2], stores[:4]]
    for bought in visits:
        card = CardFactory()
        for store in bought:
            buy(card, store)
    # when
    funnel = rally_funnel(goal=goal)
    # then: beyond the goal counts as the goal
    assert funnel == [(1, 4), (2, 3), (3, 1)]


def test_an_area_funnel_counts_only_the_areas_stores(rally, stores, card):
    # given
    goal = RallyGoalFactory(
        rally=rally, kind=RallyGoal.Kind.ALL_STORES_OF, target=None, area_store_ids=[stores[0].pk, stores[1].pk]
    )
    buy(card, stores[2])
    buy(card, stores[3])
    buy(card, stores[0])
    # when
    funnel = rally_funnel(goal=goal)
    # then
    assert funnel == [(1, 1), (2, 0)]


def test_voided_stamps_count_nowhere(rally, stores, card):
    # given
    goal = RallyGoalFactory(rally=rally, target=2)
    posting, _lines = buy(card, stores[0])
    void(posting)
    # when / then
    assert rally_participants(rally=rally) == 0
    assert rally_funnel(goal=goal) == [(1, 0), (2, 0)]
    assert [(row.stamps, row.members) for row in rally_stamps_per_store(rally=rally)] == [(0, 0)] * 4


def test_stamps_per_store_counts_stamps_and_members(rally, stores):
    # given
    RallyGoalFactory(rally=rally, kind=RallyGoal.Kind.STAMPS, target=10)
    first, second = CardFactory(), CardFactory()
    buy(first, stores[0])
    buy(second, stores[0])
    buy(second, stores[1])
    # when
    rows = {row.store.pk: (row.stamps, row.members) for row in rally_stamps_per_store(rally=rally)}
    # then
    assert rows == {stores[0].pk: (2, 2), stores[1].pk: (1, 1), stores[2].pk: (0, 0), stores[3].pk: (0, 0)}


def test_goal_results_count_live_rewards_and_their_points(rally, stores):
    # given
    goal = RallyGoalFactory(rally=rally, target=1, bonus_points=200)
    kept, taken_back = CardFactory(), CardFactory()
    buy(kept, stores[0])
    posting, _lines = buy(taken_back, stores[0])
    void(posting)
    # when
    [result] = rally_goal_results(rally=rally)
    # then
    assert (result.goal, result.members, result.bonus_points) == (goal, 1, 200)
