"""An operator sets up a birthday-month campaign in a real browser, and the next purchase at a till of a
member born this month carries its bonus, with the campaign's name, in the terminal's answer."""

import datetime
import http.client
import json
import urllib.parse

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from loyalty.roles import OPERATOR
from members.tests.factories import CardFactory, MemberFactory
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join, make_staff
from stores.services import terminal_issue_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def this_month() -> tuple[datetime.date, datetime.date]:
    first = timezone.localdate().replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following


def earn_over_http(live_server, secret: str, card, *, key: str, amount_yen: int = 1_000) -> dict:
    """A terminal's earn request, over HTTP to the running server."""
    url = urllib.parse.urlsplit(live_server.url)
    body = {
        "card": {"type": card.card_type, "number": card.number},
        "amount_yen": amount_yen,
        "receipt_no": key,
        "occurred_at": timezone.now().isoformat(),
    }
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.request(
            "POST",
            "/api/v1/earn",
            body=json.dumps(body),
            headers={
                "Authorization": f"Bearer {secret}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
                "Accept-Language": "ja",
            },
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 201, answer
    return answer


def test_operator_creates_a_birthday_month_campaign_and_the_till_gives_its_bonus(page, live_server, admin_login):
    programme = ProgrammeFactory()
    store = join(StoreFactory(name="ひかりベーカリー"), programme)
    terminal = TerminalFactory(store=store)
    secret = terminal_issue_secret(terminal=terminal, staff=make_staff())
    first, following = this_month()
    other_month = first.month % 12 + 1
    birthday_card = CardFactory(member=MemberFactory(birth_month=first.month))
    other_card = CardFactory(member=MemberFactory(birth_month=other_month))
    admin_login("unyou", role=OPERATOR)

    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "お誕生月ダブルポイント")
    page.select_option("#id_status", "active")
    page.select_option("#id_kind", "multiplier")
    page.fill("#id_multiplier_percent", "200")
    page.fill("#id_starts_at", f"{first:%Y-%m-%d}T00:00")
    page.fill("#id_ends_at", f"{following:%Y-%m-%d}T00:00")
    page.check("#id_birthday_month")
    page.click("input[name=_save]")

    page.wait_for_selector(".messagelist .success")
    assert "お誕生月ダブルポイント" in page.inner_text("#result_list")
    campaign = Campaign.objects.get(name="お誕生月ダブルポイント")
    assert (campaign.status, campaign.birthday_month, campaign.programme) == ("active", True, programme)

    celebrated = earn_over_http(live_server, secret, birthday_card, key="bday-1")
    ordinary = earn_over_http(live_server, secret, other_card, key="bday-2")

    assert celebrated["points"]["bonuses"][0] == {"name": "お誕生月ダブルポイント", "points": 10}
    assert celebrated["points"]["total"] == 20
    assert ordinary["points"]["bonuses"] == []
    assert ordinary["points"]["total"] == 10
