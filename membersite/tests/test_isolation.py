"""A member reaches their own cards and records, and nothing else: every member-site route that takes an id
answers 404 for another member's ids, for unknown ids and for paths that are not ids at all, to GET and POST.

The routes are read from membersite.urls, so a route added later is covered here without a change; a route
with a parameter this file does not know fails the guard test until its ids are added below.
"""

import re

import pytest
from django.urls import URLPattern

from membersite import urls as site_urls
from membersite.tests.helpers import registered_member, sign_in

pytestmark = pytest.mark.django_db

# Routes whose parameter is a signed token rather than an id of a member's object.
TOKEN_ROUTES = {"qr"}
UNKNOWN_ID = 987_654_321
NOT_IDS = ["abc", "-1", "1.0", "0x1", "１", "1%20", "%00"]


def id_routes() -> list[URLPattern]:
    return [p for p in site_urls.urlpatterns if p.pattern.converters and p.name not in TOKEN_ROUTES]


def path_of(pattern: URLPattern, values: dict) -> str:
    return "/my/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), str(pattern.pattern))


@pytest.fixture
def members():
    return registered_member(name="本人 一郎"), registered_member(name="他人 二郎")


def ids_of(member) -> dict[str, list[int]]:
    return {"card_id": list(member.cards.values_list("pk", flat=True))}


def test_every_id_route_is_known():
    known = set(ids_of(registered_member()))
    for pattern in id_routes():
        assert set(pattern.pattern.converters) <= known, f"add ids for {pattern.name} to ids_of()"


def test_another_members_ids_answer_404(client, members):
    me, other = members
    sign_in(client, me)
    own, foreign = ids_of(me), ids_of(other)
    assert id_routes()
    for pattern in id_routes():
        for name in pattern.pattern.converters:
            assert client.get(path_of(pattern, {name: own[name][0]})).status_code == 200, pattern.name
            for value in [*foreign[name], UNKNOWN_ID]:
                path = path_of(pattern, {name: value})
                assert client.get(path).status_code == 404, path
                assert client.post(path, {"number": "0", "code": "x", "card_type": "programme"}).status_code == 404, (
                    path
                )
            for value in NOT_IDS:
                assert client.get(path_of(pattern, {name: value})).status_code == 404
    # Nothing of the other member changed.
    assert set(other.cards.values_list("status", flat=True)) == {"active"}


def test_nobody_signed_in_reaches_nothing(client, members):
    me, _other = members
    for pattern in id_routes():
        for name in pattern.pattern.converters:
            response = client.get(path_of(pattern, {name: ids_of(me)[name][0]}))
            assert response.status_code == 302 and response["Location"].startswith("/my/login/")
