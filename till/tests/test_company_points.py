"""A company's own points: a department store's campaign gives points that only its stores take. A spend
elsewhere takes only the points it may, and says how many of the balance were usable there; the gift desk
takes none of them."""

import pytest

from api.tests.conftest import Till
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from points import errors
from points.models import Account, Entry, Lot
from points.services import points_exchange
from points.tests.factories import TerminalFactory, make_card, make_staff
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db


def till_at(client, store):
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


@pytest.fixture
def card(programme, store, client):
    """A member who bought for 10,000 yen at the department store: 100 points usable anywhere, and 500 of
    the store's own campaign usable only at its company's stores."""
    CampaignFactory(
        programme=programme,
        name="百貨店の日",
        kind=Campaign.Kind.FIXED,
        fixed_points=500,
        store_ids=[store.pk],
        usable_only_at=store.merchant,
    )
    card = make_card()
    receipt = till_at(client, store).earn(number=card.number, amount=10_000).json()
    assert receipt["points"]["total"] == 600
    return card


def test_a_company_only_lot_is_not_spent_elsewhere_and_the_refusal_says_how_many_were_usable(
    client, programme, store, other_store, card
):
    assert other_store.merchant_id != store.merchant_id
    elsewhere = till_at(client, other_store)

    refused = elsewhere.spend(number=card.number, points=300)

    # then refused, with what could be used there, and nothing written
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["message"] == (
        "この店舗で使えるポイントが足りません。残高 600 ポイントのうち、この店舗で使えるのは 100 ポイントです。"
    )
    assert not Entry.objects.filter(kind=Entry.Kind.SPEND).exists()
    # and the card lookup tells each store what it may take
    assert elsewhere.get(f"cards/transit_ic/{card.number}").json()["programmes"][0]["usable_here"] == 100
    at_home = till_at(client, store)
    assert at_home.get(f"cards/transit_ic/{card.number}").json()["programmes"][0]["usable_here"] == 600


def test_a_spend_elsewhere_takes_only_the_lots_it_may_and_the_company_store_takes_the_rest(
    client, programme, store, other_store, card
):
    spent = till_at(client, other_store).spend(number=card.number, points=100)

    assert spent.status_code == 201, spent.content
    assert spent.json()["balance"] == 500 and spent.json()["programmes"][0]["usable_here"] == 0
    # the company's own lot is untouched
    assert Lot.objects.get(merchant=store.merchant).remaining == 500
    # and its own store takes it
    at_home = till_at(client, store).spend(number=card.number, points=500)
    assert at_home.status_code == 201, at_home.content
    assert Account.objects.get(member=card.member).balance == 0


def test_the_gift_desk_takes_none_of_a_company_s_own_points(programme, card):
    with pytest.raises(errors.InsufficientPoints) as refused:
        points_exchange(member=card.member, programme=programme, points=200, idempotency_key="desk-1")

    assert (
        str(refused.value) == "交換に使えるポイントが足りません。残高 600 ポイントのうち、使えるのは 100 ポイントです。"
    )
    assert not Entry.objects.filter(kind=Entry.Kind.EXCHANGE).exists()
