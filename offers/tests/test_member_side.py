"""The member site (/my/offers/) and the member API (/api/member/v1/me/offers) list a member's offers and
activate them; an offer that does not reach the member is 404, and no endpoint takes a position."""

import pytest

from membersite.tests.helpers import MemberApp, error_of, registered_member, sign_in
from offers.models import Activation
from offers.tests.factories import consenting, joined, make_offer
from points.tests.factories import ProgrammeFactory, StoreFactory, join

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    member = joined(consenting(registered_member()), programme)
    offer = make_offer(programme=programme, store=store)
    other = make_offer(programme=programme, store=store, title="女性限定", genders=["other"])
    return member, offer, other


def test_the_site_lists_and_activates_the_members_offers(client, setup):
    member, offer, other = setup
    sign_in(client, member)

    page = client.get("/my/offers/").content.decode()
    assert offer.title in page and other.title not in page

    assert client.post("/my/offers/", {"offer": other.pk}).status_code == 404
    response = client.post("/my/offers/", {"offer": offer.pk})
    assert response.status_code == 302
    assert Activation.objects.filter(member=member, offer=offer).exists()
    assert not Activation.objects.filter(offer=other).exists()


def test_without_consent_the_member_sees_no_offer(client, setup):
    member, offer, _other = setup
    consenting(member, given=False)
    sign_in(client, member)
    assert offer.title not in client.get("/my/offers/").content.decode()
    assert client.post("/my/offers/", {"offer": offer.pk}).status_code == 404


def test_the_api_lists_and_activates(client, setup):
    member, offer, other = setup
    app = MemberApp(client).sign_in(member)

    listed = app.get("me/offers").json()["offers"]
    assert [line["id"] for line in listed] == [offer.pk]
    assert listed[0]["activated"] is False and listed[0]["areas"] == []

    assert error_of(app.post("me/offers/activations", {"offer_id": other.pk})) == (404, "not_found")
    answer = app.post("me/offers/activations", {"offer_id": offer.pk})
    assert answer.status_code == 200 and answer.json()["activated"] is True
    # No field of a position is accepted: the strict schema refuses it.
    refused = app.post("me/offers/activations", {"offer_id": offer.pk, "latitude": 35.6, "longitude": 139.7})
    assert error_of(refused)[0] == 400
