"""The till as a terminal reaches it: the terminal, its programmes and whether the running promotions
changed come in one statement, and an operator's change still takes effect at the very next earning."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from campaigns.tests.factories import CampaignFactory
from points.tests.factories import make_staff


def earn(till, amount=1_000):
    response = till.earn(amount=amount)
    assert response.status_code == 201, response.content
    return json.loads(response.content)


def test_a_campaign_paused_by_an_operator_gives_nothing_from_the_next_earning_on(till, programme):
    campaign = CampaignFactory(programme=programme, name="ダブルポイント")
    assert [bonus["name"] for bonus in earn(till)["points"]["bonuses"]] == ["ダブルポイント"]

    campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, staff=make_staff())

    assert earn(till)["points"]["bonuses"] == []
    campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE, staff=make_staff())
    assert [bonus["name"] for bonus in earn(till)["points"]["bonuses"]] == ["ダブルポイント"]


def test_an_earn_on_a_known_card_sends_ten_statements_and_a_new_card_seventeen(till):
    earn(till)  # the card is known from now on, and the terminal was heard from this minute
    with CaptureQueriesContext(connection) as known:
        earn(till)
    with CaptureQueriesContext(connection) as new:
        assert till.earn(number="FEDCBA9876543210").status_code == 201

    # The terminal with its programmes and promotions' versions; the key's claim; the card, its member and
    # its account; the entry; the lot; the balance; the points expiring soon; the stored answer. Inside a
    # test's transaction the request's BEGIN and COMMIT are savepoints. A new card is looked for twice
    # (with an account, then alone), then made with its member in a savepoint, and its account opened.
    assert len(known.captured_queries) == 10, [q["sql"][:80] for q in known.captured_queries]
    assert len(new.captured_queries) == 17, [q["sql"][:80] for q in new.captured_queries]
