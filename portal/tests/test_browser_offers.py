"""An offer's way in a real browser: the merchant creates it in the portal, the secretariat publishes it,
and a member who agreed to targeted offers activates it on the member site."""

import pytest

from membersite.services import member_link_url
from membersite.tests.helpers import registered_member
from offers.models import Activation, Offer, OfferPolicy
from offers.services import offer_publish
from offers.tests.factories import consenting, joined
from portal.tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merchant_creates_an_offer_and_a_member_activates_it(page, live_server, programme, store, merchant_user):
    OfferPolicy.objects.create(programme=programme, portal_creation=True, fee_per_redemption_yen=50)
    member = joined(consenting(registered_member()), programme)

    # The merchant logs in and creates an offer
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("#nav-offers")
    page.click("#new-offer")
    page.fill("#id_title", "3,000円以上で500円バック")
    page.select_option("#id_stores", str(store.pk))
    page.fill("#id_starts_at", "2026-01-01T00:00")
    page.fill("#id_ends_at", "2030-01-01T00:00")
    page.fill("#id_min_purchase_yen", "3000")
    page.fill("#id_benefit_fixed", "500")
    page.fill("#id_budget", "50000")
    page.click("#save-offer")
    page.wait_for_selector("#offer-report")
    offer = Offer.objects.get()
    assert offer.status == Offer.Status.DRAFT and list(offer.stores.all()) == [store]

    # The secretariat publishes it
    offer_publish(offer=offer)

    # The member signs in by their link and activates it
    link = member_link_url(member=member)
    page.goto(live_server.url + link[link.index("/my/link/") :])
    page.click("#sign-in")
    page.wait_for_url(f"{live_server.url}/my/")
    page.click("#nav-offers")
    page.click(f"#activate-{offer.pk}")
    page.wait_for_selector(f"#offer-{offer.pk} .offer-activated")
    assert Activation.objects.filter(offer=offer, member=member).exists()
