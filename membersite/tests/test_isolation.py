"""A member sees only their own: every id-taking URL of the member site (/my/) and of the member API
(/api/member/v1/) answers 404 for another member's ids, with every method it serves, and changes nothing."""

import json
import re

import pytest

from members.models import Card
from membersite import urls as site_urls
from membersite.api import urls as api_urls
from membersite.api.openapi import OPERATIONS
from membersite.tests.helpers import MemberApp, error_of, registered_member, sign_in
from offers.models import PaymentCard
from offers.services import payment_card_link

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


# Routes whose parameter is a signed code (a QR code's token), not an id of a member's object: another
# member's ids do not exist for them (qrpoints' tests try forged and foreign codes).
TOKEN_ROUTES = {"qr"}


def _id_taking(patterns):
    return [p for p in patterns if PARAMETER.search(str(p.pattern)) and p.name not in TOKEN_ROUTES]


def _filled(pattern, ids: dict) -> str:
    return PARAMETER.sub(lambda match: str(ids[match.group(1)]), str(pattern.pattern))


@pytest.fixture
def others():
    """Another member's ids, by the name the URLs give them."""
    other = registered_member(name="他人 太郎")
    return {
        "card_id": other.cards.get().pk,
        "payment_card_id": payment_card_link(member=other, token="tok_other_member_0001").pk,
    }


def _untouched(others) -> bool:
    return (
        Card.objects.get(pk=others["card_id"]).status == Card.Status.ACTIVE
        and PaymentCard.objects.filter(pk=others["payment_card_id"]).exists()
    )


def test_every_id_taking_url_is_walked():
    # The walks below cover what the URL lists have; a new id-taking URL is walked without a change here.
    assert {pattern.name for pattern in _id_taking(site_urls.urlpatterns)} == {
        "card_lost",
        "card_move",
        "payment_card_delete",
    }
    assert {pattern.name for pattern in _id_taking(api_urls.urlpatterns)} == {
        "card",
        "card_lost",
        "card_move",
        "payment_card",
    }


@pytest.mark.parametrize("pattern", _id_taking(site_urls.urlpatterns), ids=lambda pattern: pattern.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_sites_id_taking_pages_answer_404_for_another_members_ids(client, others, pattern, method):
    sign_in(client, registered_member())

    response = getattr(client, method)(f"/my/{_filled(pattern, others)}", {"number": "0" * 16, "code": "x"})

    assert response.status_code == 404
    assert _untouched(others)


def _example(method: str, route: str) -> dict | None:
    """The documented example body of the operation a route serves with this method."""
    path = "/" + PARAMETER.sub(r"{\1}", route)
    return next(op.example for op in OPERATIONS if (op.method, op.path) == (method, path))


@pytest.mark.parametrize(
    "pattern, method",
    [(pattern, method) for pattern in _id_taking(api_urls.urlpatterns) for method in pattern.callback.api_handlers],
    ids=lambda value: getattr(value, "name", value),
)
def test_the_apis_id_taking_operations_answer_404_for_another_members_ids(client, others, pattern, method):
    app = MemberApp(client).sign_in(registered_member())

    response = app.call(method, _filled(pattern, others), _example(method, str(pattern.pattern)))

    assert error_of(response) == (404, "not_found")
    assert _untouched(others)


@pytest.mark.parametrize("card_id", ["999999999", "0", "-1", "abc", "99999999999999999999999"])
def test_an_unknown_or_malformed_id_is_404_in_the_error_shape_too(client, card_id):
    app = MemberApp(client).sign_in(registered_member())

    assert error_of(app.get(f"me/cards/{card_id}")) == (404, "not_found")
    assert json.loads(app.post(f"me/cards/{card_id}/lost").content)["error"]["code"] == "not_found"
