"""A merchant reaches its own stores and sent statements, and nothing else: every portal route that takes
an id answers 404 for another merchant's ids, for statements not sent, for unknown ids and for paths that
are not ids at all.

The routes are read from portal.urls, so a route added later is covered here without a change; a route
with a parameter this file does not know fails the guard test until its ids are added to `foreign_ids`.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, reverse

from analytics.tests.helpers import monthly_report_row
from billing.models import Statement
from billing.services import period_close
from billing.tests.factories import after_period, earn, this_period
from offers.tests.factories import make_offer
from portal import urls as portal_urls
from portal.tests.conftest import close_and_send

pytestmark = pytest.mark.django_db

# Routes whose parameters are signed tokens rather than ids of a merchant's objects.
TOKEN_ROUTES = {"password_reset_confirm"}
KNOWN_IDS = {"store_id", "statement_id", "report_id", "offer_id"}
UNKNOWN_ID = 987_654_321
NOT_IDS = ["abc", "-1", "1.0", "0x1", "１", "1%20", "%00"]
QUERIES = ["", "?encoding=utf-8", "?encoding=cp932", "?format=csv&table=visits&start=2026-01-01&end=2026-01-31"]


def id_routes() -> list[URLPattern]:
    return [
        pattern
        for pattern in portal_urls.urlpatterns
        if pattern.pattern.converters and pattern.name not in TOKEN_ROUTES
    ]


def path_of(pattern: URLPattern, values: dict) -> str:
    """The path of a route with its parameters replaced by `values` (any text, so that wrong ones can be tried)."""
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), str(pattern.pattern))
    return reverse("portal:dashboard") + route


@pytest.fixture
def own_ids(billing_settings, store, other_store, card):
    """Last period closed and sent for both merchants, this period closed but not yet sent."""
    year, month = this_period(billing_settings)
    previous = (year, month - 1) if month > 1 else (year - 1, 12)
    close_and_send(billing_settings, *previous)
    sent = Statement.objects.get(store=store, status=Statement.Status.SENT)
    report = monthly_report_row(billing_settings.programme, store.merchant)
    offer = make_offer(programme=billing_settings.programme, store=store)
    return {"store_id": [store.pk], "statement_id": [sent.pk], "report_id": [report.pk], "offer_id": [offer.pk]}


@pytest.fixture
def foreign_ids(own_ids, billing_settings, store, other_store, card):
    """For each parameter, ids the merchant must not reach."""
    earn(card, store, 10_000)
    year, month = this_period(billing_settings)
    period_close(
        programme=billing_settings.programme, year=year, month=month, now=after_period(billing_settings, year, month)
    )
    unsent = Statement.objects.get(store=store, status=Statement.Status.ISSUED)
    sent = Statement.objects.get(pk=own_ids["statement_id"][0])
    cancelled = Statement.objects.create(
        **{
            field.name: getattr(sent, field.name)
            for field in Statement._meta.concrete_fields
            if field.name not in ("id", "number", "status", "created_at")
        },
        number="1999-000001",
        status=Statement.Status.CANCELLED,
    )
    others = Statement.objects.get(store=other_store, status=Statement.Status.SENT)
    others_report = monthly_report_row(billing_settings.programme, other_store.merchant)
    secretariats = monthly_report_row(billing_settings.programme)
    return {
        "store_id": [other_store.pk, UNKNOWN_ID],
        "statement_id": [others.pk, unsent.pk, cancelled.pk, UNKNOWN_ID],
        "report_id": [others_report.pk, secretariats.pk, UNKNOWN_ID],
        "offer_id": [make_offer(programme=billing_settings.programme, store=other_store).pk, UNKNOWN_ID],
    }


def test_every_route_parameter_is_known_here():
    # A new route with a new kind of id must say here which ids are another merchant's.
    for pattern in id_routes():
        assert set(pattern.pattern.converters) <= KNOWN_IDS, f"{pattern.name}: add its ids to foreign_ids"
    assert {p.name for p in id_routes()} >= {
        "store",
        "analytics_store",
        "statement_pdf",
        "statement_csv",
        "report_pdf",
        "report_csv",
        "offer",
    }


@pytest.mark.parametrize("route", [pattern.name for pattern in id_routes()])
def test_own_objects_answer(portal_client, own_ids, route):
    pattern = next(p for p in id_routes() if p.name == route)
    own = {name: ids[0] for name, ids in own_ids.items()}

    assert portal_client.get(path_of(pattern, own)).status_code == 200


@pytest.mark.parametrize("route", [pattern.name for pattern in id_routes()])
def test_other_merchants_unsent_and_unknown_ids_answer_404(portal_client, own_ids, foreign_ids, route):
    # Given a route and, for each of its parameters in turn, an id the merchant must not reach
    pattern = next(p for p in id_routes() if p.name == route)
    own = {name: ids[0] for name, ids in own_ids.items()}
    tried = 0

    for name in pattern.pattern.converters:
        for foreign in foreign_ids[name]:
            for query in QUERIES:
                # When
                path = path_of(pattern, {**own, name: foreign}) + query
                response = portal_client.get(path)

                # Then
                assert response.status_code == 404, path
                tried += 1
    assert tried >= len(QUERIES) * 2


@pytest.mark.parametrize("route", [pattern.name for pattern in id_routes()])
def test_paths_that_are_not_ids_answer_404(portal_client, own_ids, route):
    pattern = next(p for p in id_routes() if p.name == route)
    own = {name: ids[0] for name, ids in own_ids.items()}

    for name in pattern.pattern.converters:
        for text in NOT_IDS:
            path = path_of(pattern, {**own, name: text})
            assert portal_client.get(path).status_code == 404, path


@pytest.mark.parametrize("route", [pattern.name for pattern in id_routes()])
def test_staff_without_a_merchant_get_404_on_id_routes(client, own_ids, route):
    # Given a superuser of the back office
    client.force_login(get_user_model().objects.create_user(username="root", is_staff=True, is_superuser=True))
    pattern = next(p for p in id_routes() if p.name == route)

    # When / then
    assert client.get(path_of(pattern, {name: ids[0] for name, ids in own_ids.items()})).status_code == 404


@pytest.mark.parametrize("route", [pattern.name for pattern in id_routes()])
def test_anonymous_visitors_are_sent_to_login_on_id_routes(client, own_ids, route):
    pattern = next(p for p in id_routes() if p.name == route)
    path = path_of(pattern, {name: ids[0] for name, ids in own_ids.items()})

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=")
