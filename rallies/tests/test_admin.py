import pytest
from django.urls import reverse

from audit.models import AuditEvent
from members.tests.factories import CardFactory
from rallies.models import Draw, Rally, RallyGoal, Stamp
from rallies.tests.factories import RallyFactory, RallyGoalFactory, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def rally(programme, stores):
    return RallyFactory(programme=programme, store_ids=[store.pk for store in stores[:5]], name="夏ラリー")


def goal_form(prefix="goals", **goal):
    """The inline formset's management form and one goal, as the admin posts them."""
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    data.update({f"{prefix}-0-{name}": value for name, value in goal.items()})
    return data


def rally_form(programme, stores, **fields):
    return {
        "programme": programme.pk,
        "name": "秋の商店街ラリー",
        "status": Rally.Status.DRAFT,
        "starts_at": "2030-10-01T00:00",
        "ends_at": "2030-11-01T00:00",
        "store_ids": [store.pk for store in stores],
        "min_amount_yen": "500",
        "stamp_per": Rally.StampPer.STORE_DAY,
        **fields,
    }


def test_an_operator_creates_a_rally_with_an_area_goal(operator_client, programme, stores):
    # given
    area = stores[:2]
    data = rally_form(programme, stores[:4]) | goal_form(
        position="1",
        name="駅前制覇",
        kind=RallyGoal.Kind.ALL_STORES_OF,
        area_store_ids=[store.pk for store in area],
        reward=RallyGoal.Reward.BONUS,
        bonus_points="300",
        funder="secretariat",
    )
    # when
    response = operator_client.post(reverse("admin:rallies_rally_add"), data)
    # then
    assert response.status_code == 302, response.context["errors"] if response.context else response
    rally = Rally.objects.get()
    goal = rally.goals.get()
    assert (rally.store_ids, rally.min_amount_yen) == (sorted(s.pk for s in stores[:4]), 500)
    assert (goal.kind, goal.area_store_ids, goal.size, goal.target) == (
        "all_stores_of",
        sorted(s.pk for s in area),
        2,
        None,
    )
    assert AuditEvent.objects.filter(object_type="rallies.Rally", summary="Created a rally").exists()


def test_an_area_goal_outside_the_rallys_stores_is_refused(operator_client, programme, stores):
    # given
    data = rally_form(programme, stores[:2]) | goal_form(
        position="1",
        name="全域",
        kind=RallyGoal.Kind.ALL_STORES_OF,
        area_store_ids=[stores[4].pk],
        reward=RallyGoal.Reward.DRAW,
        bonus_points="0",
        funder="secretariat",
    )
    # when
    response = operator_client.post(reverse("admin:rallies_rally_add"), data)
    # then
    assert response.status_code == 200
    assert not Rally.objects.exists()
    assert stores[4].name in response.content.decode()


def test_the_report_shows_the_funnel_and_hides_small_groups(secretariat_client, rally, stores):
    # given
    goal = RallyGoalFactory(rally=rally, name="3店舗賞", target=3)
    cards = [CardFactory() for _ in range(6)]
    for card in cards:
        buy(card, stores[0])
    for card in cards[:5]:
        buy(card, stores[1])
    buy(cards[0], stores[2])
    # when
    response = secretariat_client.get(reverse("admin:rallies_rally_report", args=[rally.pk]))
    # then
    assert response.status_code == 200
    funnel = response.context["goals"][0]["funnel"]
    assert [(step["step"], step["members"]) for step in funnel] == [(1, 6), (2, 5), (3, None)]
    stores_rows = {row["store"].pk: (row["stamps"], row["members"]) for row in response.context["stores"]}
    assert stores_rows[stores[0].pk] == (6, 6)
    assert stores_rows[stores[2].pk] == (None, None)
    assert stores_rows[stores[3].pk] == (0, 0)
    assert response.context["goals"][0]["goal"] == goal
    assert response.context["participants"] == 6


def test_a_draw_from_the_admin_shows_its_winners_and_draws_them_again_with_its_seed(secretariat_client, rally, stores):
    # given
    goal = RallyGoalFactory(rally=rally, name="抽選", target=1, reward=RallyGoal.Reward.DRAW, bonus_points=0)
    for _ in range(8):
        buy(CardFactory(), stores[0])
    url = reverse("admin:rallies_rally_draw", args=[rally.pk])
    # when
    first = secretariat_client.post(url, {"goal": goal.pk, "winners": "3", "seed": ""}, follow=True)
    seed = Draw.objects.get().seed
    again = secretariat_client.post(url, {"goal": goal.pk, "winners": "3", "seed": str(seed)}, follow=True)
    # then
    draws = list(Draw.objects.order_by("pk"))
    assert len(draws) == 2
    winners = [list(d.winners.values_list("member__pseudonym", flat=True)) for d in draws]
    assert winners[0] == winners[1] and len(winners[0]) == 3
    for page in (first, again):
        text = page.content.decode()
        assert all(pseudonym in text for pseudonym in winners[0])
        assert str(seed) in text


def test_an_operator_cannot_draw(operator_client, rally):
    # given
    goal = RallyGoalFactory(rally=rally, reward=RallyGoal.Reward.DRAW, bonus_points=0, target=1)
    # when
    response = operator_client.post(
        reverse("admin:rallies_rally_draw", args=[rally.pk]), {"goal": goal.pk, "winners": "1"}
    )
    # then
    assert response.status_code == 403
    assert not Draw.objects.exists()


def test_stamps_are_read_only(secretariat_client, rally, stores, card):
    # given
    RallyGoalFactory(rally=rally)
    buy(card, stores[0])
    stamp = Stamp.objects.get()
    # when
    listing = secretariat_client.get(reverse("admin:rallies_stamp_changelist"))
    change = secretariat_client.post(reverse("admin:rallies_stamp_change", args=[stamp.pk]), {"day": "2030-01-01"})
    # then
    assert listing.status_code == 200
    assert stores[0].name in listing.content.decode()
    assert change.status_code == 403


def test_the_rally_pages_open(secretariat_client, rally):
    # given
    RallyGoalFactory(rally=rally, name="5店舗賞")
    # when
    listing = secretariat_client.get(reverse("admin:rallies_rally_changelist"))
    change = secretariat_client.get(reverse("admin:rallies_rally_change", args=[rally.pk]))
    # then
    assert "夏ラリー" in listing.content.decode()
    page = change.content.decode()
    assert "5店舗賞" in page
    assert reverse("admin:rallies_rally_report", args=[rally.pk]) in page
    assert reverse("admin:rallies_rally_draw", args=[rally.pk]) in page


def test_a_recorded_draw_offers_to_draw_again_with_its_seed(secretariat_client, rally, stores):
    # given
    goal = RallyGoalFactory(rally=rally, reward=RallyGoal.Reward.DRAW, bonus_points=0, target=1)
    buy(CardFactory(), stores[0])
    secretariat_client.post(
        reverse("admin:rallies_rally_draw", args=[rally.pk]), {"goal": goal.pk, "winners": "1", "seed": "4242"}
    )
    draw = Draw.objects.get()
    # when
    page = secretariat_client.get(reverse("admin:rallies_draw_change", args=[draw.pk])).content.decode()
    form = secretariat_client.get(
        reverse("admin:rallies_rally_draw", args=[rally.pk]), {"goal": goal.pk, "winners": 1, "seed": 4242}
    )
    # then
    assert "seed=4242" in page
    assert form.context["form"]["seed"].value() == "4242"


def test_the_add_page_opens_with_one_empty_goal(operator_client, programme, stores):
    # when
    response = operator_client.get(reverse("admin:rallies_rally_add"))
    # then
    assert response.status_code == 200
    assert 'name="goals-TOTAL_FORMS" value="1"' in response.content.decode()
