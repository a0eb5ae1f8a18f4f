"""The member page in a real browser, on a 1,366 × 768 screen: the secretariat opens a member, reads the
summary (the balance without scrolling), edits personal data behind its own button, adjusts points and
replaces a lost card, and sees each result on the summary."""

import pytest

from exchange.services import exchange_create
from exchange.tests.factories import tokyo
from members.models import Card
from members.services import card_find, member_register
from points.tests.factories import make_card
from stores.tests.factories import StaffFactory
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def member(programme, stores, rally, coupon_template, counter, item):
    """山田 花子: 1,600 points from three purchases and a rally goal, less 270 for a reserved voucher; a coupon."""
    card = make_card()
    member = member_register(
        member=card.member,
        terms_version="2024-04",
        personal={"name": "山田 花子", "name_kana": "ヤマダ ハナコ", "phone": "090-2222-3333"},
    )
    for store in stores[:3]:
        till_buy(card, store, amount_yen=50_000)
    exchange_create(
        member=member,
        counter=counter,
        lines=[(item, 1)],
        staff=StaffFactory(username="madoguchi"),
        idempotency_key="browser-reserve",
        at=tokyo(2026, 5, 30, 11),
        reserve=True,
    )
    return member


def find_by_phone(page, live_server, phone):
    page.goto(f"{live_server.url}/admin/members/member/")
    page.fill("#searchbar", phone)
    page.press("#searchbar", "Enter")


def test_the_summary_fits_the_screen_and_leads_to_editing_and_adjusting(
    page, live_server, admin_login, member, rally, coupon_template, item
):
    page.set_viewport_size(SCREEN)
    admin_login()

    # The member list opens the summary, not a form.
    find_by_phone(page, live_server, "09022223333")
    page.click(f"text={member.pseudonym}")
    page.wait_for_selector("#member-balance")
    assert not page.locator("input[name=phone]").count()

    # The balance is on the first screen, and nothing runs off the side of it.
    balance = page.locator("#member-balance .balance").first
    assert balance.inner_text() == "1,330 pt"
    box = balance.bounding_box()
    assert box["y"] + box["height"] <= SCREEN["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    assert "270 pt" in page.inner_text("#member-exchanges")
    assert "3,000円" in page.inner_text("#member-exchanges")
    assert coupon_template.name in page.inner_text("#member-coupons")
    assert rally.name in page.inner_text("#member-rallies")
    assert "+100 pt" in page.inner_text("#member-rallies")
    assert "山田 花子" in page.inner_text("#member-personal-data")

    # Personal data is edited behind its own button; saving comes back to the summary.
    page.click("#member-edit")
    page.fill("#id_phone", "080-1111-2222")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert "080-1111-2222" in page.inner_text("#member-personal-data")

    # An operation is a button; its result is on the summary.
    page.click("#member-operations >> text=ポイント調整")
    page.fill("#id_points", "1000")
    page.fill("#id_reason", "イベント参加のお礼")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert page.inner_text("#member-balance .balance") == "2,330 pt"
    assert "イベント参加のお礼" in page.inner_text("#member-history")


def test_staff_find_a_member_by_phone_replace_a_lost_card_and_see_it_in_the_history(
    page, live_server, admin_login, programme, stores
):
    card = make_card()
    member_register(
        member=card.member,
        terms_version="2024-04",
        personal={"name": "山田 花子", "name_kana": "ヤマダ ハナコ", "phone": "090-2222-3333"},
    )
    till_buy(card, stores[0], amount_yen=4_500)
    admin_login()

    find_by_phone(page, live_server, "09022223333")
    page.click(f"text={card.member.pseudonym}")
    assert "45 pt" in page.inner_text("#member-expiring")
    page.click("#member-operations >> text=カード再発行")
    page.select_option("#id_old_card", str(card.pk))
    page.select_option("#id_new_card_type", "transit_ic")
    page.fill("#id_new_number", "0A0B0C0D0E0F1011")
    page.fill("#id_reason", "紛失届")
    page.click("input[type=submit]")

    page.wait_for_selector(".messagelist .success")
    history = page.inner_text("#member-history")
    assert "紛失届" in history and "1011" in history
    assert "…1011" in page.inner_text("#member-cards")
    assert Card.objects.get(pk=card.pk).status == Card.Status.REPLACED
    assert card_find(number="0A0B0C0D0E0F1011").member_id == card.member_id


def test_the_desk_sells_points_and_the_page_shows_them_apart_with_the_member_s_rank(
    page, live_server, admin_login, programme, stores
):
    import datetime

    from django.utils import timezone

    from points.models import Programme
    from ranks.models import Rank, RankPolicy
    from ranks.services import ranks_evaluate

    Programme.objects.filter(pk=programme.pk).update(sells_points=True)
    RankPolicy.objects.create(programme=programme, calendar_year=True)
    for name, threshold in (("レギュラー", 0), ("シルバー", 3_000), ("ゴールド", 100_000)):
        Rank.objects.create(programme=programme, name=name, threshold_yen=threshold)
    card = make_card()
    member_register(
        member=card.member, terms_version="2024-04", personal={"name": "佐藤 一郎", "phone": "090-4444-5555"}
    )
    till_buy(card, stores[0], amount_yen=4_500)
    ranks_evaluate(programme=programme, day=timezone.localdate() + datetime.timedelta(days=1))
    page.set_viewport_size(SCREEN)
    admin_login()

    find_by_phone(page, live_server, "09044445555")
    page.click(f"text={card.member.pseudonym}")
    # the rank and why, on the summary
    ranks = page.inner_text("#member-ranks")
    assert "シルバー" in ranks and "ゴールドまであと 95,500円" in ranks
    assert "4,500円 ≥ 3,000円" in ranks
    # the desk sells 3,000 yen of points
    page.click("#member-operations >> text=ポイント販売")
    page.fill("#id_amount_yen", "3000")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "3,000 ポイントを 3,000円 で販売しました。" in page.inner_text(".messagelist")
    # and the balance shows the purchased and the free points apart
    assert page.inner_text("#member-balance .balance") == "3,045 pt"
    assert page.inner_text("#member-balance .purchased") == "3,000 pt"
    assert page.inner_text("#member-balance .free") == "45 pt"
    assert "ポイント購入" in page.inner_text("#member-history")
