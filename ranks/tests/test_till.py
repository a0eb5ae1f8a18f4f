"""Ranks at the till, as a terminal sees them: the rank's extra points on an earning, the rank and what
remains to the next one on the receipt and the card lookup, a rank reached at once where the programme says
so, and campaigns for a rank or above."""

import datetime

import pytest
from django.utils import timezone

from api.tests.conftest import Till
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from points.models import Entry, Funder
from points.tests.factories import TerminalFactory, make_staff
from ranks.models import MemberRank, RankPolicy, RankRecord
from ranks.services import ranks_evaluate
from stores.services import terminal_issue_secret
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client, store):
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def hold(card, programme, rank):
    MemberRank.objects.update_or_create(
        member=card.member, programme=programme, defaults={"rank": rank, "since": timezone.localdate()}
    )


def earn(till, card, amount):
    response = till.earn(number=card.number, amount=amount)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_gold_member_earns_half_again_funded_by_the_secretariat_and_the_receipt_says_so(
    till, programme, ladder, card
):
    # given a Gold member (150%) with 30,000 yen of purchases this year, at a 1% store
    hold(card, programme, ladder["ゴールド"])
    till_buy(card, till.terminal.store, amount_yen=30_000, at=timezone.now() - datetime.timedelta(days=1))

    # when they buy for 10,000 yen
    receipt = earn(till, card, 10_000)

    # then 100 points and a Gold bonus of 50 that the secretariat funds
    assert receipt["points"]["base"] == 100
    assert receipt["points"]["bonuses"] == [{"name": "ゴールド会員", "points": 50}]
    bonus = Entry.objects.get(kind=Entry.Kind.BONUS, operation=receipt["transaction_id"])
    assert bonus.funder == Funder.SECRETARIAT and bonus.points == 50
    # and the receipt prints the rank, and what remains to keep it (40,000 of 100,000 yen bought)
    assert receipt["rank"]["name"] == "ゴールド"
    assert receipt["rank"]["to_keep_yen"] == 60_000
    assert receipt["rank"]["text"] == "ゴールド維持まであと 60,000円"
    assert receipt["rank"]["next_rank"] is None


def test_the_card_lookup_shows_the_rank_and_what_remains_to_the_next(till, programme, ladder, card, store):
    # given a regular member with 37,700 yen of purchases in the last three months
    till_buy(card, store, amount_yen=37_700, at=timezone.now() - datetime.timedelta(days=3))

    found = till.get(f"cards/transit_ic/{card.number}").json()

    assert found["rank"]["name"] == "レギュラー"
    assert (found["rank"]["next_rank"], found["rank"]["to_next_yen"]) == ("シルバー", 12_300)
    assert found["rank"]["text"] == "シルバーまであと 12,300円"
    # and in English
    english = till.get(f"cards/transit_ic/{card.number}", language="en").json()
    assert english["rank"]["text"] == "12,300 yen more to シルバー"


def test_a_purchase_that_reaches_the_next_rank_applies_from_the_next_midnight(till, programme, ladder, card):
    # when a regular member buys for 60,000 yen
    receipt = earn(till, card, 60_000)

    # then no Silver bonus yet, the receipt says Silver from tomorrow, and nothing is recorded before midnight
    assert receipt["points"]["bonuses"] == []
    assert receipt["rank"]["name"] == "レギュラー"
    assert receipt["rank"]["text"] == "明日からシルバー"
    assert not RankRecord.objects.exists()
    # and the next midnight makes them Silver, whose next purchase earns 120%
    ranks_evaluate(programme=programme, day=timezone.localdate() + datetime.timedelta(days=1))
    assert MemberRank.objects.get(member=card.member).rank.name == "シルバー"


def test_an_at_once_programme_moves_the_member_up_for_the_next_purchase(till, programme, ladder, card):
    RankPolicy.objects.filter(programme=programme).update(at_once=True)

    # when a regular member's purchase reaches Silver
    first = earn(till, card, 60_000)
    # then that purchase earns at the old rank, and the member is Silver from now, recorded with its figures
    assert first["points"]["bonuses"] == []
    assert first["rank"]["name"] == "シルバー"
    record = RankRecord.objects.get(member=card.member)
    assert (record.rank_before, record.rank.name, record.purchases_yen) == (None, "シルバー", 60_000)
    assert record.reason.endswith("のお買上げ 60,000円 ≥ 50,000円（即時）")
    # and the next purchase earns Silver's 120%
    second = earn(till, card, 10_000)
    assert second["points"]["bonuses"] == [{"name": "シルバー会員", "points": 20}]
    # and the night's evaluation finds nothing more to change
    assert ranks_evaluate(programme=programme, day=timezone.localdate() + datetime.timedelta(days=1)) == []


def test_a_voided_purchase_takes_its_rank_bonus_back(till, programme, ladder, card):
    hold(card, programme, ladder["シルバー"])
    receipt = earn(till, card, 10_000)
    assert receipt["points"]["total"] == 120

    voided = till.void(receipt["transaction_id"])

    assert voided.status_code == 201, voided.content
    assert voided.json()["points"]["total"] == -120
    assert voided.json()["balance"] == 0


def test_a_campaign_for_gold_or_above_gives_its_bonus_to_gold_members_only(till, programme, ladder, card):
    from points.tests.factories import make_card

    CampaignFactory(
        programme=programme,
        name="ゴールド会員感謝デー",
        kind=Campaign.Kind.FIXED,
        fixed_points=500,
        min_rank=ladder["ゴールド"],
    )
    silver = make_card()
    hold(card, programme, ladder["ゴールド"])
    hold(silver, programme, ladder["シルバー"])

    gold_receipt = earn(till, card, 1_000)
    silver_receipt = earn(till, silver, 1_000)

    assert {"name": "ゴールド会員感謝デー", "points": 500} in gold_receipt["points"]["bonuses"]
    assert [bonus["name"] for bonus in silver_receipt["points"]["bonuses"]] == ["シルバー会員"]


def test_a_programme_without_ranks_prints_no_rank(till, card):
    receipt = earn(till, card, 1_000)
    assert receipt["rank"] is None
    assert till.get(f"cards/transit_ic/{card.number}").json()["rank"] is None
