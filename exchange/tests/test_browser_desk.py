"""A secretariat staff member serves a member at the exchange desk in a real browser: log in, open the desk
from the admin, read the card with the reader (it types the number and Enter), pick two rice vouchers,
confirm, and see the serial to write on the slip."""

import pytest

from exchange.admin import desk
from exchange.models import Exchange
from exchange.tests.conftest import OPEN
from members.tests.factories import CardFactory
from points.models import Account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_serve_a_member_at_the_desk(page, live_server, admin_login, monkeypatch, counter, item, rich_member):
    # The desk's clock inside the window: Monday 1 June 2026, 10:00, the counter open.
    monkeypatch.setattr(desk, "desk_now", lambda: OPEN)
    card = CardFactory(member=rich_member)
    admin_login("madoguchi")

    page.goto(f"{live_server.url}/admin/exchange/")
    page.click("#open-desk")
    page.wait_for_selector("#find-card-form")
    # The card reader types into whatever has the focus, then presses Enter.
    page.keyboard.type(card.number)
    page.keyboard.press("Enter")

    page.wait_for_selector("#basket-form")
    assert rich_member.pseudonym in page.inner_text("#desk-member-id")
    assert "20,000" in page.inner_text("#desk-balance")
    page.fill(f"#id_qty_{item.pk}", "2")
    page.click("#desk-to-confirm")

    page.wait_for_selector("#confirm-exchange")
    assert page.inner_text("#confirm-points") == "5,400"
    assert page.inner_text("#confirm-balance-after") == "14,600"
    page.click("#confirm-exchange")

    page.wait_for_selector("#desk-serial")
    assert page.inner_text("#desk-serial") == "EX-2026-000001"
    assert page.get_attribute("#print-slip", "href").endswith("/slip/")
    made = Exchange.objects.get()
    assert (made.serial, made.status, made.points) == ("EX-2026-000001", Exchange.Status.HANDED_OVER, 5_400)
    assert Account.objects.get(member=rich_member).balance == 14_600
    item.refresh_from_db()
    assert item.stock_on_hand == 8
