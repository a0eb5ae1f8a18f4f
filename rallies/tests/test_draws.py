import pytest

from audit.models import AuditEvent
from members.models import Member
from members.tests.factories import CardFactory
from rallies.models import Draw, RallyGoal
from rallies.services import draw_winners, rally_draw
from rallies.tests.factories import RallyFactory, RallyGoalFactory, buy, void
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draw_goal(programme, stores):
    rally = RallyFactory(programme=programme, store_ids=[store.pk for store in stores[:2]])
    return RallyGoalFactory(rally=rally, name="抽選", target=1, reward=RallyGoal.Reward.DRAW, bonus_points=0)


@pytest.fixture
def entrants(draw_goal, stores):
    """Twelve members who reached the draw goal."""
    cards = [CardFactory() for _ in range(12)]
    for card in cards:
        buy(card, stores[0])
    return [card.member for card in cards]


def winners_of(draw: Draw) -> list[int]:
    return list(draw.winners.order_by("position").values_list("member_id", flat=True))


def test_a_draw_with_its_seed_names_the_same_winners_again(draw_goal, entrants):
    # given
    staff = StaffFactory()
    first = rally_draw(goal=draw_goal, winners=3, seed=None, staff=staff)
    # when
    again = rally_draw(goal=draw_goal, winners=3, seed=first.seed, staff=staff)
    # then
    assert len(winners_of(first)) == 3
    assert winners_of(again) == winners_of(first)
    assert again.eligible_digest == first.eligible_digest
    assert AuditEvent.objects.filter(object_type="rallies.Draw").count() == 2


def test_a_draw_is_random_over_the_members_ordered_by_id(draw_goal, entrants):
    # when
    draw = rally_draw(goal=draw_goal, winners=4, seed=20240801, staff=StaffFactory())
    # then
    ids = sorted(member.pk for member in entrants)
    assert winners_of(draw) == draw_winners(eligible=ids, winners=4, seed=20240801)
    assert draw.seed == 20240801 and draw.eligible_count == 12


def test_a_draw_is_among_eligible_members_only(draw_goal, entrants, stores):
    # given
    outsider = CardFactory()
    buy(outsider, stores[1], amount_yen=50)  # worth no points: no stamp, no entry
    voided_card = CardFactory()
    voided, _lines = buy(voided_card, stores[0])
    void(voided)
    Member.objects.filter(pk=entrants[0].pk).update(status=Member.Status.SUSPENDED)
    # when
    draw = rally_draw(goal=draw_goal, winners=50, seed=7, staff=StaffFactory())
    # then
    assert sorted(winners_of(draw)) == sorted(member.pk for member in entrants[1:])
    assert draw.eligible_count == 11
