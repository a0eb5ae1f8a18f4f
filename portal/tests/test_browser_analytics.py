"""A merchant opens 分析 in a real browser: the charts are drawn with Japanese labels, and a group of fewer
than five members reads 5名未満 in the chart and the table."""

import datetime
import os
from pathlib import Path

import pytest

from analytics.tests.helpers import buy, member_card, pay, refresh
from points.tests.factories import join
from portal.tests.conftest import PASSWORD
from stores.models import Store
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
SCREENSHOTS = Path(os.environ.get("ANALYTICS_SCREENSHOTS", "/tmp/analytics-screenshots"))


def test_merchant_opens_analytics_and_sees_its_charts(page, live_server, programme, merchant, store, merchant_user):
    # Given eight regulars at the merchant's bakery in May and June, three of whom spend its points at
    # another merchant's café
    cafe = join(StoreFactory(name="喫茶あおば", category=Store.Category.CAFE), programme)
    regulars = [member_card() for _ in range(8)]
    for month in (5, 6):
        for n, card in enumerate(regulars):
            buy(card, store, D(2026, month, 3 + n), amount_yen=2_000)
    for card in regulars[:3]:
        pay(card, cafe, D(2026, 6, 20), 10)
    refresh(D(2026, 6, 30), first_day=D(2026, 5, 1))

    # When the merchant logs in and opens 分析 for May and June
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("#nav-analytics")
    page.wait_for_url(f"{live_server.url}/portal/analytics/")
    page.fill("#id_start", "2026-05-01")
    page.fill("#id_end", "2026-06-30")
    page.click("#analytics-form button[type=submit]")
    page.wait_for_selector("#store-members-chart rect.bar")

    # Then the members are drawn month by month with Japanese labels
    labels = page.locator("#store-members-chart text").all_text_contents()
    assert {"来店した会員（新規・再来店）", "来店会員数", "新規会員", "再来店会員", "2026/05", "2026/06"} <= set(labels)
    assert page.locator("#store-members-chart rect.bar").count() >= 3
    assert "リピート率" in page.locator("#store-repeat-chart text").all_text_contents()
    # and the three members' points spent at the café are a small group, in the chart and the table
    spent = page.locator("#store-spent-where-chart text").all_text_contents()
    assert "自店で発行したポイントの利用先" in spent
    assert "5名未満" in spent
    assert page.locator("#store-spent-where-chart rect.small-group").count() >= 1
    assert "5名未満" in page.inner_text("#table-spent")
    assert "喫茶あおば" not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal.png"), full_page=True)
