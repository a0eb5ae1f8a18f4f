"""The secretariat reads the purchased points' base-date report in a real browser, from the accounts list."""

import pytest

from points.models import Programme
from points.services import points_sell_at_desk
from points.tests.factories import make_card, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_secretariat_reads_the_unused_purchased_points_and_the_half_to_secure(
    page, live_server, admin_login, programme
):
    Programme.objects.filter(pk=programme.pk).update(sells_points=True)
    programme.refresh_from_db()
    member = make_card().member
    for number in range(11):
        points_sell_at_desk(
            member=member, programme=programme, amount_yen=1_000_000, staff=make_staff(), idempotency_key=f"s{number}"
        )
    admin_login()

    page.goto(f"{live_server.url}/admin/points/account/")
    page.click("text=基準日の購入ポイント未使用残高")

    table = page.inner_text("#purchased-base-dates")
    # sold today, so every past base date shows nothing unused and nothing to secure
    assert programme.name in table
    assert "0円" in table and "不要" in table
    assert "5,500,000円" not in table
    assert "10,000,000円を超えるときは" in page.inner_text("#content")
