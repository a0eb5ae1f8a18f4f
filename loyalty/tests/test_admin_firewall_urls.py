"""The firewall between companies, URL by URL: staff of one company's programme reach nothing of another's
through any admin URL that takes an id; the group's secretariat reaches everything.

Every ModelAdmin registered on the admin site is walked (its change, history and delete pages, and every
id-taking URL it adds to them: the member page's operations, the forecast, the draw, the slips, the desk...),
with the rows of programme A, as staff of programme B: each answers 404, to GET and to POST alike. The same
URLs answer staff of A and the unscoped secretariat as their role allows (200, or 403 where the role may
not). The rows and URLs come from the registry, so an admin added later is walked without a change here;
one whose model has no row in the world, or a URL with a parameter this file does not know, fails the
guard tests until it is added.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import URLPattern, reverse

from common.scoping import programme_path
from exchange.models import Exchange
from members.models import Member

pytestmark = pytest.mark.django_db

STANDARD_VIEWS = ("change", "history", "delete")
# The object a custom URL's parameter names, when it is not the admin's own.
OTHER_OBJECTS = {"member_id": Member, "exchange_id": Exchange}
# Parameters that are not ids, and a value for them.
NOT_IDS = {"encoding": "utf-8"}
OWN_OBJECT = ("object_id", "pk", "id")
UNKNOWN_ID = 987_654_321


def registered() -> list[tuple[type, admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def model_labels(*, of_a_programme: bool | None = None) -> list[str]:
    """The registered models (those whose rows belong to a programme, or to the whole group)."""
    return [
        model._meta.label
        for model, _model_admin in registered()
        if of_a_programme is None or (programme_path(model) is not None) == of_a_programme
    ]


def admin_of(label: str):
    return next((model, model_admin) for model, model_admin in registered() if model._meta.label == label)


def custom_routes() -> list[tuple[type, URLPattern]]:
    """(the admin's model, the URL) for every id-taking URL an admin adds to Django's own three."""
    found = []
    for model, model_admin in registered():
        standard = {f"{model._meta.app_label}_{model._meta.model_name}_{view}" for view in STANDARD_VIEWS}
        for pattern in model_admin.get_urls():
            # The unnamed <object_id>/ is Django's redirect to the change page, walked with it.
            if isinstance(pattern, URLPattern) and pattern.pattern.converters and pattern.name not in standard:
                if pattern.name is not None:
                    found.append((model, pattern))
    return found


def route_names() -> list[str]:
    return [pattern.name for _model, pattern in custom_routes()]


def row_of(world: dict, programme: str, model: type):
    return world[programme].get(model) or world["group"][model]


def standard_url(model, view: str, obj_id) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[quote(obj_id)])


def route_url(world: dict, model, pattern: URLPattern, programme: str, **replaced) -> str:
    values = {}
    for name in pattern.pattern.converters:
        if name in NOT_IDS:
            values[name] = NOT_IDS[name]
        elif name in OWN_OBJECT:
            values[name] = row_of(world, programme, model).pk
        else:
            values[name] = world[programme][OTHER_OBJECTS[name]].pk
    values.update(replaced)
    return reverse(f"admin:{pattern.name}", kwargs=values)


def allowed_status(user, model_admin, obj, view: str) -> int:
    """What the role allows on this row: the page (200) or a refusal (403), never 404."""
    request = RequestFactory().get("/admin/")
    request.user = user
    allowed = (
        model_admin.has_delete_permission(request, obj)
        if view == "delete"
        else model_admin.has_view_or_change_permission(request, obj)
    )
    return 200 if allowed else 403


# --- the guards --------------------------------------------------------------------------


def test_every_registered_model_has_a_row_in_the_world(world):
    # An admin added later needs a row of programme A and B (or of the group) here.
    for model, _model_admin in registered():
        if programme_path(model) is None:
            assert model in world["group"], f"{model._meta.label}: add a row of the group to the world"
        else:
            assert model in world["A"] and model in world["B"], f"{model._meta.label}: add a row to the world"


def test_every_custom_url_parameter_is_known_here():
    known = set(OWN_OBJECT) | set(OTHER_OBJECTS) | set(NOT_IDS)
    for _model, pattern in custom_routes():
        assert set(pattern.pattern.converters) <= known, f"{pattern.name}: say here what its parameters are"
    # The walk finds the URLs it is meant to.
    assert {
        "members_member_adjust",
        "members_member_withdraw",
        "members_member_attach_card",
        "campaigns_campaign_forecast",
        "campaigns_campaign_activate",
        "rallies_rally_draw",
        "billing_statement_pdf",
        "billing_period_reopen",
        "exchange_desk_member",
        "exchange_desk_collect",
        "exchange_exchange_slip",
        "exchange_item_receive",
        "donations_organisation_donate",
        "donations_donationsettlement_notice",
    } <= set(route_names())


# --- Django's own pages of each row -----------------------------------------------------------


@pytest.mark.parametrize("label", model_labels())
def test_staff_of_another_programme_get_404_for_every_row(client, world, staff_b, label):
    # Given programme A's row (or the group's), and staff who work for programme B only
    model, _model_admin = admin_of(label)
    row = row_of(world, "A", model)
    client.force_login(staff_b)

    for view in STANDARD_VIEWS:
        url = standard_url(model, view, row.pk)
        # When / then: nothing tells the row exists, and a POST changes nothing
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"post": "yes"}).status_code == 404, url
    assert model._default_manager.filter(pk=row.pk).exists()


@pytest.mark.parametrize("label", model_labels())
def test_unknown_ids_answer_404_to_scoped_staff(client, world, staff_b, label):
    model, _model_admin = admin_of(label)
    client.force_login(staff_b)

    for view in STANDARD_VIEWS:
        assert client.get(standard_url(model, view, UNKNOWN_ID)).status_code == 404


@pytest.mark.parametrize("label", model_labels(of_a_programme=True))
def test_own_programme_staff_and_the_secretariat_reach_the_rows(client, world, staff_a, secretariat, label):
    model, model_admin = admin_of(label)
    for user, programmes in ((staff_a, ["A"]), (secretariat, ["A", "B"])):
        client.force_login(user)
        for programme in programmes:
            row = world[programme][model]
            for view in STANDARD_VIEWS:
                url = standard_url(model, view, row.pk)
                assert client.get(url).status_code == allowed_status(user, model_admin, row, view), (user, url)


@pytest.mark.parametrize("label", model_labels(of_a_programme=False))
def test_rows_of_the_whole_group_are_the_secretariats(client, world, staff_a, secretariat, label):
    # Users, groups, the audit trail, background tasks and login attempts belong to no programme.
    model, model_admin = admin_of(label)
    row = world["group"][model]
    for view in STANDARD_VIEWS:
        url = standard_url(model, view, row.pk)
        client.force_login(staff_a)
        assert client.get(url).status_code == 404, url
        client.force_login(secretariat)
        assert client.get(url).status_code == allowed_status(secretariat, model_admin, row, view), url


# --- the URLs the admins add ---------------------------------------------------------------


@pytest.mark.parametrize("route", route_names())
def test_custom_urls_answer_404_for_another_programmes_ids(client, world, staff_b, route):
    # Given a URL and, for each of its id parameters in turn, programme A's id (or an unknown one) among
    # programme B's own
    model, pattern = next((model, pattern) for model, pattern in custom_routes() if pattern.name == route)
    client.force_login(staff_b)
    tried = 0

    for name in pattern.pattern.converters:
        if name in NOT_IDS:
            continue
        theirs = row_of(world, "A", model if name in OWN_OBJECT else OTHER_OBJECTS[name]).pk
        for foreign in (theirs, UNKNOWN_ID):
            # When
            url = route_url(world, model, pattern, "B", **{name: foreign})
            # Then
            assert client.get(url).status_code == 404, url
            assert client.post(url, {}).status_code == 404, url
            tried += 1
    assert tried >= 2


@pytest.mark.parametrize("route", route_names())
def test_custom_urls_answer_their_own_programmes_staff_and_the_secretariat(client, world, staff_a, secretariat, route):
    model, pattern = next((model, pattern) for model, pattern in custom_routes() if pattern.name == route)
    if model in world["A"]:
        visitors = ((staff_a, "A"), (secretariat, "A"), (secretariat, "B"))
    else:
        visitors = ((secretariat, "A"),)  # a row of the whole group: staff of A get 404, as staff of B do
    for user, programme in visitors:
        client.force_login(user)
        url = route_url(world, model, pattern, programme)
        # A page, a download, a redirect, "POST only", or what the role may not do: anything but "not found".
        assert client.get(url).status_code in (200, 302, 403, 405), (user, url)


def test_the_sites_own_object_url_answers_404_too(client, world, staff_b):
    # The admin's "view on site" shortcut takes a content type and an id; no model has a page of its own.
    client.force_login(staff_b)
    member = world["A"][Member]
    content_type = ContentType.objects.get_for_model(Member)
    assert client.get(reverse("admin:view_on_site", args=[content_type.pk, member.pk])).status_code == 404
