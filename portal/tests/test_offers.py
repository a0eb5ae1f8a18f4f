"""The merchant's offers in the portal: the report matches the ledger and the redemptions, with the
five-member rule, and a merchant creates an offer where the programme allows."""

import pytest
from django.utils import timezone

from members.tests.factories import MemberFactory
from offers.models import Offer, OfferPolicy, Redemption
from offers.services import offer_activate, offers_settle_due
from offers.tests.factories import consenting, joined, make_offer
from points.models import Entry
from points.tests.factories import make_card
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db


def _buyers(offer, programme, store, count):
    for _ in range(count):
        member = joined(consenting(MemberFactory()), programme)
        offer_activate(member=member, offer=offer)
        till_buy(make_card(member=member), store, amount_yen=3_000)


def test_the_report_matches_the_ledger(portal_client, programme, store):
    offer = make_offer(
        programme=programme, store=store, benefit=Offer.Benefit.POINTS, waiting_days=0, per_member_limit=1
    )
    _buyers(offer, programme, store, 5)
    offers_settle_due(today=timezone.localdate())

    page = portal_client.get(f"/portal/offers/{offer.pk}/").content.decode()

    paid = sum(
        Entry.objects.filter(kind=Entry.Kind.BONUS, idempotency_key__startswith="offer-redemption:").values_list(
            "points", flat=True
        )
    )
    assert paid == 2_500
    rows = dict((label, value) for label, value in portal_client.get(f"/portal/offers/{offer.pk}/").context["rows"])
    assert rows["支払済みの特典"] == paid
    assert rows["対象のお買い上げ"] == Redemption.objects.filter(offer=offer).count() == 5
    assert rows["売上（円）"] == 15_000
    assert offer.title in page


def test_fewer_than_five_buyers_are_hidden(portal_client, programme, store):
    offer = make_offer(programme=programme, store=store, waiting_days=0)
    _buyers(offer, programme, store, 2)
    page = portal_client.get(f"/portal/offers/{offer.pk}/").content.decode()
    assert "5名未満" in page
    assert "6,000" not in page and "6000" not in page


def test_a_merchant_creates_an_offer_where_the_programme_allows(portal_client, programme, store):
    assert "new-offer" not in portal_client.get("/portal/offers/").content.decode()
    OfferPolicy.objects.create(programme=programme, portal_creation=True, fee_per_redemption_yen=80)

    response = portal_client.post(
        "/portal/offers/new/",
        {
            "programme": programme.pk,
            "title": "平日3,000円以上で300円バック",
            "stores": [store.pk],
            "starts_at": "2026-12-01T00:00",
            "ends_at": "2027-01-01T00:00",
            "weekdays": [0, 1, 2, 3, 4],
            "min_purchase_yen": 3000,
            "benefit": "yen",
            "benefit_fixed": 300,
            "benefit_rate_bp": 0,
            "per_member_limit": 1,
            "budget": 30_000,
            "waiting_days": 30,
        },
    )

    offer = Offer.objects.get()
    assert response.status_code == 302, response.context["form"].errors
    assert (offer.status, offer.merchant_id, offer.fee_per_redemption_yen) == (
        Offer.Status.DRAFT,
        store.merchant_id,
        80,
    )
    assert list(offer.stores.all()) == [store]
