"""The secretariat's main journey in a real browser: log in, find a member by
phone, replace a lost card, and see it in the member's history."""

import pytest

from members.models import Card
from members.services import card_find, member_register
from points.services import points_earn
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_finds_member_by_phone_replaces_card_and_sees_history(page, live_server, admin_login):
    programme = ProgrammeFactory()
    store = join(StoreFactory(name="ベーカリー麦の穂"), programme)
    card = make_card()
    member_register(
        member=card.member,
        terms_version="2024-04",
        personal={"name": "山田 花子", "name_kana": "ヤマダ ハナコ", "phone": "090-2222-3333"},
    )
    points_earn(card=card, store=store, amount_yen=4_500, idempotency_key="browser-1")
    admin_login()

    page.goto(f"{live_server.url}/admin/members/member/")
    page.fill("#searchbar", "09022223333")
    page.press("#searchbar", "Enter")
    page.click(f"text={card.member.pseudonym}")

    page.click("#open-lots >> text=45")  # the lot is listed with its remaining points
    page.click("a[href$='/replace-card/']")
    page.select_option("#id_old_card", str(card.pk))
    page.select_option("#id_new_card_type", "transit_ic")
    page.fill("#id_new_number", "0A0B0C0D0E0F1011")
    page.fill("#id_reason", "紛失届")
    page.click("input[type=submit]")

    page.wait_for_selector(".messagelist .success")
    history = page.inner_text("#history")
    assert "紛失届" in history
    assert "1011" in history
    assert Card.objects.get(pk=card.pk).status == Card.Status.REPLACED
    assert card_find(number="0A0B0C0D0E0F1011").member_id == card.member_id
