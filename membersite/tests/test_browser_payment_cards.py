"""A member links a payment card's token on the member site in a real browser: from the offers page to the
payment cards page, a card number refused and not shown back, the token linked and shown only by its last four
characters, then removed."""

import pytest

from membersite.services import member_link_url
from membersite.tests.helpers import registered_member
from offers.models import PaymentCard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_links_a_card_token_sees_it_masked_and_removes_it(page, live_server):
    member = registered_member()
    url = live_server.url

    # The member signs in by their link and goes from the offers page to their payment cards
    link = member_link_url(member=member)
    page.goto(url + link[link.index("/my/link/") :])
    page.click("#sign-in")
    page.wait_for_url(f"{url}/my/")
    page.click("#nav-offers")
    assert "リンクした決済カード" in page.inner_text("#payment-cards-link")
    page.click("#manage-payment-cards")
    page.wait_for_url(f"{url}/my/payment-cards/")

    # A card number is refused, not stored, and not shown back in the field
    page.fill("#id_token", "4111 1111 1111 1111")
    page.click("#link-payment-card")
    page.wait_for_selector("text=カード番号ではなく")
    assert page.input_value("#id_token") == ""
    assert not PaymentCard.objects.exists()

    # The token from the card issuer is linked and shown by its last four characters only
    page.fill("#id_token", "tok_live_8f3a2c9e5678")
    page.click("#link-payment-card")
    page.wait_for_selector("text=カード …5678 をリンクしました")
    card = PaymentCard.objects.get(member=member)
    assert card.token == "tok_live_8f3a2c9e5678"
    row = page.inner_text(f"#payment-card-{card.pk}")
    assert "…5678" in row and "8f3a" not in page.content()

    # Removed, it is gone from the page and from the database
    page.click(f"#remove-payment-card-{card.pk}")
    page.wait_for_selector("text=カード …5678 のリンクを解除しました")
    assert page.locator(f"#payment-card-{card.pk}").count() == 0
    assert "リンクしたカードはまだありません" in page.inner_text("#payment-cards")
    assert not PaymentCard.objects.exists()
