"""Campaign bonuses as the terminal sees them: on the receipt, once per retry, in the offline batch."""

import json

import pytest
from django.test import Client

from api.tests.conftest import Till, now_iso
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from campaigns.tests.factories import CampaignFactory
from points.models import Funder
from points.tests.factories import TerminalFactory, make_staff
from stores.services import terminal_issue_secret


@pytest.fixture
def till(store):
    terminal = TerminalFactory(store=store)
    return Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def test_the_receipt_shows_each_bonus_with_the_campaigns_name(programme, till):
    CampaignFactory(programme=programme, name="ダブルポイント", priority=1)
    CampaignFactory(programme=programme, name="来店ボーナス", kind="fixed", fixed_points=5, priority=2)

    answer = json.loads(till.earn(amount=1_000).content)

    assert answer["points"] == {
        "base": 10,
        "bonuses": [{"name": "ダブルポイント", "points": 10}, {"name": "来店ボーナス", "points": 5}],
        "total": 25,
    }
    assert answer["balance"] == 25


def test_a_retried_earn_answers_the_same_bonuses_byte_for_byte(programme, till):
    CampaignFactory(programme=programme)
    body = {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 2_000,
        "receipt_no": "R",
        "occurred_at": now_iso(),
    }

    first, again = till.post("earn", body, key="k-1"), till.post("earn", body, key="k-1")

    assert first.content == again.content and json.loads(first.content)["points"]["total"] == 40


def test_items_sent_by_the_terminal_reach_item_category_campaigns(programme, till):
    CampaignFactory(programme=programme, item_categories=["wagashi"], kind="fixed", fixed_points=7)
    items = [{"code": "4901234567890", "category": "wagashi", "quantity": 1, "amount_yen": 500}]

    with_items = json.loads(till.earn(amount=500, items=items).content)
    without = json.loads(till.earn(amount=500, number="0123456789ABCDE0").content)

    assert (with_items["points"]["total"], without["points"]["total"]) == (12, 5)


def test_the_offline_batch_gives_bonuses_too(programme, till):
    CampaignFactory(programme=programme)
    items = [
        {
            "op": "earn",
            "key": f"off-{n}",
            "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
            "amount_yen": 1_000,
            "receipt_no": f"R{n}",
            "occurred_at": now_iso(),
        }
        for n in range(3)
    ]

    answer = json.loads(till.post("batch", {"items": items}).content)

    assert answer["counts"]["applied"] == 3
    assert [r["result"]["points"]["total"] for r in answer["results"]] == [20, 20, 20]


def test_store_funded_bonuses_reach_the_monthly_close(programme, store, till):
    from billing.models import Statement, StatementLine
    from billing.services import period_close

    settings = BillingSettingsFactory(programme=programme)
    CampaignFactory(programme=programme, funder=Funder.STORE, name="店舗負担")
    CampaignFactory(programme=programme, funder=Funder.SECRETARIAT, name="事務局負担", kind="fixed", fixed_points=3)
    till.earn(amount=10_000)
    year, month = this_period(settings)

    period_close(programme=programme, year=year, month=month, now=after_period(settings, year, month))

    lines = {line.kind: line for line in Statement.objects.get(store=store).lines.all()}
    assert lines[StatementLine.Kind.BONUS_STORE].quantity == 100
    assert lines[StatementLine.Kind.POINTS_ISSUED].quantity == 100
    # The secretariat's bonus is not billed to the store.
    assert sum(line.quantity or 0 for line in lines.values() if line.kind.startswith(("points", "bonus"))) == 200
