"""Rally stamps as the terminal sees them."""

import json

import pytest
from django.test import Client

from api.tests.conftest import Till, now_iso
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join, make_staff
from rallies.models import RallyGoal, Stamp
from rallies.tests.factories import RallyFactory, RallyGoalFactory
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(db):
    return ProgrammeFactory()


@pytest.fixture
def tills(programme):
    """Tills at two stores of a rally whose goal is both stores."""
    stores = [join(StoreFactory(), programme) for _ in range(2)]
    rally = RallyFactory(programme=programme, name="商店街ラリー", store_ids=[store.pk for store in stores])
    RallyGoalFactory(rally=rally, name="2店舗賞", target=2, bonus_points=100, reward=RallyGoal.Reward.BONUS)
    found = []
    for store in stores:
        terminal = TerminalFactory(store=store)
        found.append(Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff())))
    return found


def test_the_receipt_shows_the_stamp_progress_and_the_goals_bonus(tills):
    # given
    tills[0].earn(amount=1_000)
    # when
    answer = json.loads(tills[1].earn(amount=1_000).content)
    # then
    [line] = answer["rally"]
    assert (line["rally"], line["stamp"], line["progress"], line["reached"]) == (
        "商店街ラリー",
        True,
        "2/2",
        ["2店舗賞"],
    )
    assert line["text"] == "2/2店舗"
    assert answer["points"]["bonuses"] == [{"name": "商店街ラリー 2店舗賞", "points": 100}]


def test_a_retried_earn_answers_the_same_stamp_and_gives_no_second(tills):
    # given
    body = {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 1_000,
        "receipt_no": "R",
        "occurred_at": now_iso(),
    }
    # when
    first, again = tills[0].post("earn", body, key="k-1"), tills[0].post("earn", body, key="k-1")
    # then
    assert first.content == again.content
    assert json.loads(first.content)["rally"][0]["progress"] == "1/2"
    assert Stamp.objects.count() == 1


def test_a_void_at_the_till_removes_the_stamp(tills):
    # given
    earned = json.loads(tills[0].earn(amount=1_000).content)
    # when
    answer = json.loads(tills[0].void(earned["transaction_id"]).content)
    # then
    [line] = answer["rally"]
    assert (line["stamp_removed"], line["progress"]) == (True, "0/2")
    assert not Stamp.objects.filter(voided_at__isnull=True).exists()
