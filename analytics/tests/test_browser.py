"""The secretariat opens each report in a real browser: the charts are drawn (bars, lines or cells, with
Japanese labels), the tables list the figures, and a group of fewer than five members reads 5名未満."""

import datetime
import os
from pathlib import Path

import pytest

from analytics.tests.helpers import buy, member_card, noon, pay, refresh
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from points.models import Funder
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from stores.models import Store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
SCREENSHOTS = Path(os.environ.get("ANALYTICS_SCREENSHOTS", "/tmp/analytics-screenshots"))


@pytest.fixture
def street(db):
    """Eight regulars buy at a bakery every month from March, three of them also spend at a café; one member
    shops once; a campaign runs in June."""
    programme = ProgrammeFactory()
    bakery = join(StoreFactory(name="ひかりベーカリー", category=Store.Category.BAKERY), programme)
    cafe = join(StoreFactory(name="喫茶さくら", category=Store.Category.CAFE), programme)
    CampaignFactory(
        programme=programme,
        name="夏の5ポイント",
        kind=Campaign.Kind.FIXED,
        fixed_points=5,
        funder=Funder.STORE,
        starts_at=noon(D(2026, 6, 1), 0),
        ends_at=noon(D(2026, 7, 1), 0),
    )
    regulars = [member_card(gender="female", birth_year=1980) for _ in range(8)]
    for month in (3, 4, 5, 6):
        for n, card in enumerate(regulars):
            buy(card, bakery, D(2026, month, 3 + n), amount_yen=2_000 + 500 * n)
    for card in regulars[:3]:
        pay(card, cafe, D(2026, 6, 20), 10)
    buy(member_card(), cafe, D(2026, 6, 25))
    refresh(D(2026, 6, 30))
    return programme


def open_report(page, live_server, name: str, query: str = ""):
    page.goto(f"{live_server.url}/admin/")
    page.click(f"a[href='/admin/analytics/{name}/report/']")
    if query:
        page.goto(f"{live_server.url}/admin/analytics/{name}/report/?{query}")
    page.wait_for_selector("svg.analytics-chart")


def drawn(page, selector: str) -> int:
    return page.locator(f"svg.analytics-chart {selector}").count()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


PERIOD = "start=2026-03-01&end=2026-06-30&by=month"


def test_the_points_report_draws_its_charts(page, live_server, admin_login, street):
    admin_login()
    open_report(page, live_server, "pointsreport", PERIOD)

    assert drawn(page, "rect.bar") >= 4
    assert drawn(page, "polyline.line") >= 1
    labels = page.locator("#points-flows-chart text").all_text_contents()
    assert {"ポイントの発行・利用・失効", "発行ポイント", "利用ポイント", "2026/03", "2026/06"} <= set(labels)
    # three members spent: hidden in the chart and in the table alike
    assert "5名未満" in labels
    june = page.locator("#table-main tbody tr", has_text="2026/06")
    assert "5名未満" in june.inner_text()
    shoot(page, "points")


def test_the_circulation_report_draws_its_matrix(page, live_server, admin_login, street):
    admin_login()
    open_report(page, live_server, "circulationreport", PERIOD + "&level=store")

    assert drawn(page, "rect.cell") + drawn(page, "rect.small-group") >= 1
    labels = page.locator("#circulation-chart text").all_text_contents()
    assert {"ひかりベーカリー", "喫茶さくら", "5名未満"} <= set(labels)
    assert "5名未満" in page.inner_text("#table-pairs")
    shoot(page, "circulation")


def test_the_members_report_draws_activity_dormancy_and_the_days_between_visits(page, live_server, admin_login, street):
    admin_login()
    open_report(page, live_server, "membersreport", PERIOD + "&threshold=30")

    assert drawn(page, "rect.bar") >= 8
    gaps = page.locator("#members-gaps-chart text").all_text_contents()
    assert {"来店間隔", "2〜7日", "15〜30日", "31〜60日"} <= set(gaps)
    june = page.locator("#table-main tbody tr", has_text="2026/06").inner_text()
    assert "9" in june  # eight regulars and the one-time shopper
    assert "5名未満" in page.locator("#members-activity-chart").inner_html()
    shoot(page, "members")


def test_the_promotions_report_draws_before_and_during(page, live_server, admin_login, street):
    admin_login()
    open_report(page, live_server, "promotionsreport", "start=2026-06-01&end=2026-06-30&by=month")

    assert drawn(page, "rect.bar") == 2
    labels = page.locator("#promotions-chart text").all_text_contents()
    assert {"夏の5ポイント", "実施前", "実施中"} <= set(labels)
    row = page.locator("#table-main tbody tr", has_text="夏の5ポイント").inner_text()
    assert "\t9\t45\t" in row  # the regulars and the one-time shopper, 9 × 5 bonus points from the stores
    shoot(page, "promotions")


@pytest.fixture
def recent_days(db):
    """Six members bought three days ago, three of them yesterday; a campaign is running."""
    from django.utils import timezone

    from analytics.services import analytics_refresh

    today = timezone.localdate()
    programme = ProgrammeFactory()
    bakery = join(StoreFactory(name="ひかりベーカリー", category=Store.Category.BAKERY), programme)
    CampaignFactory(programme=programme, name="冬の感謝祭", kind=Campaign.Kind.FIXED, fixed_points=5)
    regulars = [member_card() for _ in range(6)]
    for card in regulars:
        buy(card, bakery, today - datetime.timedelta(days=3))
    for card in regulars[:3]:
        buy(card, bakery, today - datetime.timedelta(days=1))
    yesterday = today - datetime.timedelta(days=1)
    analytics_refresh(first_day=today - datetime.timedelta(days=40), now=noon(yesterday, 23))
    return programme


def test_the_home_page_draws_the_dashboard(page, live_server, admin_login, recent_days):
    admin_login()
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#dashboard svg.analytics-chart")

    assert page.locator("#dashboard-points-chart rect.bar").count() >= 2
    points = page.locator("#dashboard-points-chart text").all_text_contents()
    assert {"ポイントの発行・利用（直近4週間）", "発行ポイント", "利用ポイント"} <= set(points)
    members = page.locator("#dashboard-members-chart text").all_text_contents()
    assert "買い物をした会員（直近4週間）" in members
    # three members shopped yesterday: a hatched stub, never the figure
    assert "5名未満" in members
    assert page.locator("#dashboard-members-chart rect.small-group").count() == 1
    assert "本日と今月" in page.inner_text("#dashboard-figures")
    assert "冬の感謝祭" in page.inner_text("#dashboard-promotions")
    assert "対応が必要なこと" in page.inner_text("#dashboard-due")
    # the index is still there
    assert page.locator("#content-main .app-points").count() == 1
    shoot(page, "dashboard")
