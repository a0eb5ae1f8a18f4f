"""A member's own errands in a real browser on a phone-sized screen: register a card from its receipt, sign
in by the mailed link, change the address, withdraw consent to the mail magazine, report the card lost and
move its points to a new card, donate 100 points, claim an event's QR points and a flyer's."""

import re

import pytest
from django.core import mail

from donations.tests.factories import OrganisationFactory
from members.models import Card, Member
from members.selectors import consent_holds
from members.services import card_registration_code
from points.models import Account
from points.tests.factories import make_card
from qrpoints.services import store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(_browser, live_server):
    context = _browser.new_context(
        locale="ja-JP", extra_http_headers={"Accept-Language": "ja"}, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_member_registers_signs_in_and_looks_after_their_card(phone, live_server, store, programme):
    page, url = phone, live_server.url
    # Given a card used at a till, whose receipt printed the registration code
    card = make_card()
    receipt = till_buy(card, store, amount_yen=12_000)
    points = receipt.posting.account.balance
    code = card_registration_code(card=card)

    # When the member registers it from the receipt
    page.goto(f"{url}/my/login/")
    page.click("#register-card")
    page.fill("#id_number", card.number)
    page.fill("#id_code", code.lower())
    page.click("#check-card")
    page.wait_for_url(f"{url}/my/register/details/")
    page.fill("#id_name", "鈴木 花子")
    page.fill("#id_name_kana", "スズキ ハナコ")
    page.fill("#id_email", "hanako@example.jp")
    page.fill("#id_postal_code", "100-0001")
    page.fill("#id_address", "東京都千代田区千代田1-1")
    page.check("#id_consent-mail_magazine")
    page.check("#id_agree")
    page.click("#register")
    page.wait_for_url(f"{url}/my/")

    # Then they are signed in and see their points
    assert f"{points:,}" in page.inner_text("#balances")
    member = Member.objects.get(pk=card.member_id)
    assert member.status == "active" and consent_holds(member_id=member.pk, purpose="mail_magazine")

    # When they sign out and sign in again by the link mailed to them
    page.click("#logout")
    page.wait_for_url(f"{url}/my/login/")
    page.fill("#id_email", "hanako@example.jp")
    page.click("#send-link")
    page.wait_for_selector("text=ログインリンクを送信しました")
    link = re.search(r"http://\S+/my/link/\?token=\S+", mail.outbox[-1].body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", url))
    page.click("#sign-in")
    page.wait_for_url(f"{url}/my/")
    assert "鈴木" not in page.inner_text("header") and member.pseudonym in page.inner_text("header")

    # When they change their address
    page.click("#nav-profile")
    page.fill("#id_address", "東京都渋谷区神宮前2-2")
    page.click("#save-profile")
    page.wait_for_selector("text=すべてのプログラムの登録情報を変更しました")
    assert Member.objects.get(pk=member.pk).address == "東京都渋谷区神宮前2-2"

    # When they withdraw their consent to the mail magazine
    page.click("#nav-consents")
    page.uncheck("#id_consent-mail_magazine")
    page.click("#save-consents")
    page.wait_for_selector("text=選択を保存しました")
    assert not consent_holds(member_id=member.pk, purpose="mail_magazine")
    assert "同意しない" in page.inner_text("#consent-lines")

    # When they report the card lost, then move its points to a new card (itself used once at a till)
    new = make_card()
    new_points = till_buy(new, store, amount_yen=3_000).posting.account.balance
    page.click("#nav-cards")
    page.click(f"#lost-{card.pk}")
    page.click("#confirm-lost")
    page.wait_for_selector("text=カードを全店舗で停止しました")
    assert Card.objects.get(pk=card.pk).status == Card.Status.BLOCKED
    page.click(f"#move-{card.pk}")
    page.select_option("#id_card_type", new.card_type)
    page.fill("#id_number", new.number)
    page.fill("#id_code", card_registration_code(card=new))
    page.click("#move")
    page.wait_for_selector(f"text=ポイントを末尾 {new.number_last4} のカードに移しました")

    # Then the new card is theirs with both cards' points
    assert Card.objects.get(pk=new.pk).member_id == member.pk
    assert Account.objects.get(member=member).balance == points + new_points
    page.click("text=ポイント")
    assert f"{points + new_points:,}" in page.inner_text("#balances")

    # When they donate 100 points to an organisation
    organisation = OrganisationFactory(programme=programme, name="ひかり子ども食堂")
    page.click("#nav-donate")
    page.select_option("#id_organisation", str(organisation.pk))
    page.fill("#id_points", "100")
    page.click("#donate")
    page.wait_for_selector("text=ひかり子ども食堂 に 100 ポイントを寄付しました")
    assert Account.objects.get(member=member).balance == points + new_points - 100
    assert "ひかり子ども食堂" in page.inner_text("#donations")

    # When they scan an event's poster and press the button
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300)
    page.goto(f"{url}/my/qr/{token_of(event)}/")
    assert "駅前夏祭り" in page.inner_text("#qr")
    page.click("#claim")
    assert "300" in page.inner_text("#qr-result")

    # When they scan a flyer, then the visit code at the counter of one of its stores
    flyer = FlyerFactory(programme=programme, name="秋の大売り出し", points=50, stores=[store])
    page.goto(f"{url}/my/qr/{token_of(flyer)}/")
    page.click("#claim")
    page.wait_for_selector("#qr-result")
    page.goto(f"{url}/my/qr/{token_of(store_visit_code_current(store=store))}/")
    page.click("#claim")
    assert "50" in page.inner_text("#qr-result")

    # Then both show on their page, and the balance counts them
    page.click("text=ポイントを見る")
    page.wait_for_url(f"{url}/my/")
    assert "駅前夏祭り" in page.inner_text("#qr-points") and "秋の大売り出し" in page.inner_text("#qr-points")
    total = points + new_points - 100 + 300 + 50
    assert Account.objects.get(member=member).balance == total
    assert f"{total:,}" in page.inner_text("#balances")
