"""Requests generated from the member API's OpenAPI document, sent to the real WSGI app by a signed-in
member: none may make the server fail, and every answer must be what the document says (status, content type,
headers, body schema).

Schemathesis runs, per operation, the document's examples, its boundary cases and 30 random requests. Each
request carries a fresh session of a member with a card and points (a member withdrawn by an earlier request is
replaced), a card id in the path is the member's own card, a donation's organisation one taking donations, and
the documented QR code's token a real event's, so that requests reach the handlers.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from donations.tests.factories import OrganisationFactory
from exchange.tests.factories import give_points
from members.models import Member
from membersite.api.openapi import OPERATIONS, openapi_document
from membersite.services import api_session_open
from membersite.tests.helpers import registered_member
from qrpoints.tests.factories import QrEventFactory
from qrpoints.tokens import qr_url

schema = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The app commits for real, as in production: Django's WSGI handler closes a connection it finds inside a
# test's wrapping transaction, so these tests run without that wrapping.
pytestmark = pytest.mark.django_db(transaction=True)


QR_EXAMPLE = next(op.example["token"] for op in OPERATIONS if op.operation_id == "qr_scan")


@pytest.fixture
def send(db, programme):
    """Send a case as a signed-in member's app."""
    app = WSGIHandler()
    organisation = OrganisationFactory(programme=programme)
    event = QrEventFactory(programme=programme, max_claims=1_000)

    def member_with_points() -> Member:
        member = registered_member()
        give_points(member, programme, 5_000)
        return member

    members = [member_with_points()]

    def send(case):
        if members[-1].status != Member.Status.ACTIVE:
            members.append(member_with_points())
        member = Member.objects.get(pk=members[-1].pk)
        members[-1] = member
        if case.path_parameters and "card_id" in case.path_parameters:
            case.path_parameters["card_id"] = member.cards.order_by("-pk").first().pk
        if isinstance(case.body, dict) and "organisation_id" in case.body:
            case.body["organisation_id"] = organisation.pk
        if isinstance(case.body, dict) and case.body.get("token") == QR_EXAMPLE:
            case.body["token"] = qr_url(event)
        _session, key = api_session_open(member=member)
        response = case.call(app=app, headers={"Authorization": f"Bearer {key}"})
        case.validate_response(response, checks=CHECKS)
        return response

    yield send
    cache.clear()


@schema.parametrize()
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_server_fail_and_every_answer_is_documented(case, send):
    send(case)


def test_the_generated_requests_reach_the_handlers(send):
    answer = send(schema["/me/profile"]["PATCH"].Case(body={"postal_code": "150-0001"}))
    donated = send(
        schema["/me/donations"]["POST"].Case(
            body={"organisation_id": 999, "points": 7, "key": "7d0c5a6e-2f5b-4a37-9a0e-3f1c2b4d5e6f"}
        )
    )
    scanned = send(schema["/me/qr"]["POST"].Case(body={"token": QR_EXAMPLE}))

    assert answer.status_code == 200 and answer.json()["postal_code"] == "150-0001"
    assert donated.status_code == 201 and (donated.json()["points"], donated.json()["balance"]) == (7, 4_993)
    assert scanned.status_code == 200 and scanned.json()["outcome"] == "credited"
