"""The admin's home page, by role and across the firewall: the secretariat sees every section and acts from
its links; operators see the figures and their campaigns' and rallies' progress; auditors see what the
secretariat sees with links that only read; a company's staff see only their programme's figures,
terminals, periods, windows and promotions, and nothing of the group's background tasks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.selectors.dashboard import DUE, FIGURES, PROMOTIONS, TERMINALS
from campaigns.models import Campaign
from loyalty.roles import AUDITOR, OPERATOR
from rallies.models import Rally
from stores.models import Terminal
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def test_the_secretariat_sees_every_section_with_links_that_act(client, world, secretariat):
    response = home(client, secretariat)
    board = response.context["dashboard"]

    assert board.sections == {FIGURES, TERMINALS, DUE, PROMOTIONS}
    assert {line.key for line in board.figures} == {"issued", "spent", "transactions", "purchases_yen", "members"}
    assert len(board.charts) == 2
    assert {t.code for t in board.terminals} == {world["A"][Terminal].code, world["B"][Terminal].code}
    assert {line.name for line in board.campaigns} == {world["A"][Campaign].name, world["B"][Campaign].name}
    assert {line.name for line in board.rallies} == {world["A"][Rally].name, world["B"][Rally].name}
    kinds = {item.kind for item in board.due}
    assert {"send", "window", "failures"} <= kinds
    send = next(item for item in board.due if item.kind == "send")
    assert send.url.startswith("/admin/billing/period/")
    assert next(item for item in board.due if item.kind == "window").url == reverse("admin:exchange_desk")
    assert next(item for item in board.due if item.kind == "failures").url == reverse(
        "admin:django_q_failure_changelist"
    )
    page = response.content.decode()
    assert 'id="dashboard-points-chart"' in page and 'id="dashboard-members-chart"' in page
    # the index is still there, below the dashboard
    assert page.index('id="dashboard"') < page.index('class="app-points')


def test_a_companys_staff_see_only_their_programme(client, world, staff_a):
    board = home(client, staff_a).context["dashboard"]

    assert {t.code for t in board.terminals} == {world["A"][Terminal].code}
    assert {line.name for line in board.campaigns} == {world["A"][Campaign].name}
    assert {line.name for line in board.rallies} == {world["A"][Rally].name}
    assert board.due and all("プログラムA" in item.text for item in board.due if item.kind in ("send", "window"))
    assert not any("プログラムB" in item.text for item in board.due)
    # background tasks belong to the whole group
    assert "failures" not in {item.kind for item in board.due}


def test_operators_see_the_figures_and_the_promotions_only(client, world):
    board = home(client, StaffFactory(username="unyou", role=OPERATOR)).context["dashboard"]

    assert board.sections == {FIGURES, PROMOTIONS}
    assert board.figures and board.campaigns and board.rallies
    assert board.due == [] and board.terminals == []


def test_auditors_see_the_same_with_links_that_only_read(client, world):
    response = home(client, StaffFactory(username="kansa", role=AUDITOR))
    board = response.context["dashboard"]

    assert board.sections == {FIGURES, TERMINALS, DUE, PROMOTIONS}
    assert board.terminals and board.campaigns and board.rallies
    kinds = {item.kind for item in board.due}
    assert {"send", "window"} <= kinds and "failures" not in kinds
    page = response.content.decode()
    for action in (reverse("admin:billing_period_close"), reverse("admin:exchange_desk")):
        assert action not in page
    assert next(item for item in board.due if item.kind == "window").url == reverse(
        "admin:exchange_windowrule_changelist"
    )
    assert "<form" not in page.split('id="dashboard"')[1].split('id="content-related"')[0]


def test_every_roles_sections_are_the_dashboards():
    from analytics.selectors.dashboard import SECTIONS
    from loyalty.admin_site import DASHBOARD_SECTIONS

    assert all(sections <= SECTIONS for sections in DASHBOARD_SECTIONS.values())


def test_the_home_page_reads_a_bounded_number_of_queries(client, world, secretariat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.tests.factories import CampaignFactory
    from points.models import Programme
    from rallies.tests.factories import RallyFactory
    from stores.tests.factories import TerminalFactory

    client.force_login(secretariat)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("admin:index"))
    store = world["A"][Terminal].store
    for n in range(6):
        CampaignFactory(programme=world["A"][Programme], name=f"追加{n}")
        RallyFactory(programme=world["B"][Programme], store_ids=[world["B"][Terminal].store_id])
        TerminalFactory(store=store)
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("admin:index"))
    assert len(after) == len(before) <= 30, [query["sql"] for query in after.captured_queries]
