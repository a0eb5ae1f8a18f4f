"""Members link their payment cards' tokens themselves (offers.services.payment_card_link, the member site's
/my/payment-cards/ and the member API's /me/payment-cards): a card number is refused and never stored, a token
of another member is refused without saying whose, a member links at most PAYMENT_CARDS_PER_MEMBER cards, and
a linked token's lines in the card issuer's file pay the member's activated offers."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from members.tests.factories import MemberFactory
from membersite.tests.helpers import MemberApp, error_of, registered_member, sign_in
from offers.models import PaymentCard, Redemption
from offers.selectors import payment_cards_of_member
from offers.services import (
    PAYMENT_CARDS_PER_MEMBER,
    PaymentCardError,
    payment_card_link,
    payment_card_token_checked,
    payment_card_unlink,
)
from offers.tests.factories import consenting, joined, make_offer
from points.tests.factories import ProgrammeFactory, StoreFactory, join

pytestmark = pytest.mark.django_db

CARD_NUMBERS = [
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    " 4111 1111-1111 1111 ",
    "４１１１１１１１１１１１１１１１",  # full-width, as a Japanese keyboard may type it
    "4111111111111",  # 13 digits
    "4111111111111111111",  # 19 digits
    "tok_4111111111111111",  # a card number inside something else
]


# --- the service ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", CARD_NUMBERS)
def test_a_card_number_is_refused_and_nothing_is_stored(typed):
    member = MemberFactory()

    with pytest.raises(PaymentCardError) as refused:
        payment_card_link(member=member, token=typed)

    assert refused.value.code == "card_number"
    assert "カード番号" in str(refused.value)
    assert not PaymentCard.objects.exists()


@pytest.mark.parametrize("typed", ["short", "x" * 65, "tok 0001 abc", "tok_０００１abcd", "tok/0001abcd", "", "   "])
def test_a_malformed_token_is_refused(typed):
    with pytest.raises(PaymentCardError) as refused:
        payment_card_link(member=MemberFactory(), token=typed)

    assert refused.value.code == "card_token_invalid"
    assert not PaymentCard.objects.exists()


@pytest.mark.parametrize(
    "typed, stored",
    [("tok_0001abcd", "tok_0001abcd"), ("  tok-AbC_123456789012  ", "tok-AbC_123456789012"), ("a" * 64, "a" * 64)],
)
def test_a_token_is_stored_without_the_spaces_around_it(typed, stored):
    assert payment_card_token_checked(typed) == stored
    member = MemberFactory()

    assert payment_card_link(member=member, token=typed).token == stored
    assert PaymentCard.objects.get().member == member


def test_another_members_token_is_refused_without_saying_whose():
    owner = registered_member(name="持主 一郎")
    payment_card_link(member=owner, token="tok_0001abcd")

    with pytest.raises(PaymentCardError) as refused:
        payment_card_link(member=MemberFactory(), token=" tok_0001abcd")

    assert refused.value.code == "card_token_taken"
    assert "持主" not in str(refused.value) and owner.pseudonym not in str(refused.value)
    assert list(PaymentCard.objects.values_list("member_id", flat=True)) == [owner.pk]


def test_linking_the_same_token_again_answers_the_existing_link():
    member = MemberFactory()
    first = payment_card_link(member=member, token="tok_0001abcd")

    assert payment_card_link(member=member, token="tok_0001abcd ") == first
    assert PaymentCard.objects.count() == 1


def test_a_member_links_at_most_the_limit():
    member = MemberFactory()
    for n in range(PAYMENT_CARDS_PER_MEMBER):
        payment_card_link(member=member, token=f"tok_card_{n:04}")

    with pytest.raises(PaymentCardError) as refused:
        payment_card_link(member=member, token="tok_one_more")

    assert refused.value.code == "payment_cards_full"
    assert str(PAYMENT_CARDS_PER_MEMBER) in str(refused.value)
    assert PaymentCard.objects.filter(member=member).count() == PAYMENT_CARDS_PER_MEMBER
    # Another member is not held by this one's limit, and a card already linked is still answered.
    assert payment_card_link(member=MemberFactory(), token="tok_one_more").token == "tok_one_more"
    assert payment_card_link(member=member, token="tok_card_0000").token == "tok_card_0000"


def test_a_member_unlinks_only_their_own_card():
    member, other = MemberFactory(), MemberFactory()
    own = payment_card_link(member=member, token="tok_0001abcd")
    others = payment_card_link(member=other, token="tok_0002abcd")

    with pytest.raises(PaymentCardError) as refused:
        payment_card_unlink(member=member, card_id=others.pk)
    assert refused.value.code == "not_found"
    assert PaymentCard.objects.filter(pk=others.pk).exists()

    payment_card_unlink(member=member, card_id=own.pk)
    assert not PaymentCard.objects.filter(pk=own.pk).exists()
    # The token is free again, for this member or another.
    assert payment_card_link(member=other, token="tok_0001abcd").member == other


def test_the_member_sees_only_the_last_four_characters():
    member = MemberFactory()
    payment_card_link(member=member, token="tok_secret_9876")
    payment_card_link(member=MemberFactory(), token="tok_secret_1111")

    cards = payment_cards_of_member(member=member)

    assert [(card.last4, card.masked) for card in cards] == [("9876", "…9876")]


# --- the member site --------------------------------------------------------------------------------------


def test_the_site_links_shows_masked_and_removes(client):
    member = registered_member()
    sign_in(client, member)

    assert "/my/payment-cards/" in client.get("/my/offers/").content.decode()
    response = client.post("/my/payment-cards/", {"token": "tok_secret_9876"}, follow=True)
    page = response.content.decode()
    card = PaymentCard.objects.get(member=member)
    assert "…9876" in page and "tok_secret" not in page
    assert AuditEvent.objects.filter(object_id=str(member.pk), detail__payment_card=card.pk).exists()

    assert f'id="payment-card-{card.pk}"' in page
    response = client.post(f"/my/payment-cards/{card.pk}/delete/", follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "…9876 のリンクを解除しました" in page
    assert f'id="payment-card-{card.pk}"' not in page
    assert not PaymentCard.objects.exists()


@pytest.mark.parametrize("typed", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"])
def test_the_site_refuses_a_card_number_and_does_not_show_it_back(client, typed):
    sign_in(client, registered_member())

    response = client.post("/my/payment-cards/", {"token": typed})

    page = response.content.decode()
    assert response.status_code == 200 and "カード番号ではなく" in page
    assert "1111" not in page
    assert not PaymentCard.objects.exists()


def test_the_site_refuses_another_members_token(client):
    payment_card_link(member=registered_member(name="持主 一郎"), token="tok_0001abcd")
    sign_in(client, registered_member())

    page = client.post("/my/payment-cards/", {"token": "tok_0001abcd"}).content.decode()

    assert "別の会員にリンクされています" in page and "持主" not in page
    assert PaymentCard.objects.count() == 1


# --- the member API ---------------------------------------------------------------------------------------


def test_the_api_links_lists_and_removes(client):
    member = registered_member()
    app = MemberApp(client).sign_in(member)

    linked = app.post("me/payment-cards", {"token": "tok_secret_9876"})
    assert linked.status_code == 201
    body = linked.json()
    assert (body["last4"], body["masked"]) == ("9876", "…9876") and "token" not in body
    again = app.post("me/payment-cards", {"token": "tok_secret_9876"})
    assert again.status_code == 201 and again.json()["id"] == body["id"]

    listed = app.get("me/payment-cards").json()["payment_cards"]
    assert [line["id"] for line in listed] == [body["id"]]
    assert "tok_secret" not in app.get("me/payment-cards").content.decode()

    assert app.delete(f"me/payment-cards/{body['id']}").status_code == 204
    assert app.get("me/payment-cards").json() == {"payment_cards": []}
    assert error_of(app.delete(f"me/payment-cards/{body['id']}")) == (404, "not_found")


@pytest.mark.parametrize("typed", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"])
@pytest.mark.parametrize(
    "language, words", [("ja", "カード番号ではなく"), ("en", "never the card number")], ids=["ja", "en"]
)
def test_the_api_refuses_a_card_number_in_the_callers_language(client, typed, language, words):
    app = MemberApp(client).sign_in(registered_member())

    response = app.post("me/payment-cards", {"token": typed}, language=language)

    assert error_of(response) == (400, "invalid_request")
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == "token" and words in detail["message"]
    assert "1111" not in response.content.decode()
    assert not PaymentCard.objects.exists()


def test_the_api_refuses_another_members_token_and_a_member_over_the_limit(client):
    payment_card_link(member=registered_member(name="持主 一郎"), token="tok_0001abcd")
    member = registered_member()
    app = MemberApp(client).sign_in(member)

    taken = app.post("me/payment-cards", {"token": "tok_0001abcd"})
    assert error_of(taken) == (409, "card_token_taken") and "持主" not in taken.content.decode()

    for n in range(PAYMENT_CARDS_PER_MEMBER):
        assert app.post("me/payment-cards", {"token": f"tok_card_{n:04}"}).status_code == 201
    assert error_of(app.post("me/payment-cards", {"token": "tok_one_more"})) == (409, "payment_cards_full")
    assert PaymentCard.objects.filter(member=member).count() == PAYMENT_CARDS_PER_MEMBER


def test_the_api_answers_404_for_another_members_card(client):
    others = payment_card_link(member=registered_member(), token="tok_0001abcd")
    app = MemberApp(client).sign_in(registered_member())

    assert error_of(app.delete(f"me/payment-cards/{others.pk}")) == (404, "not_found")
    assert error_of(app.delete("me/payment-cards/abc")) == (404, "not_found")
    assert PaymentCard.objects.filter(pk=others.pk).exists()


# --- from the app to the card file ------------------------------------------------------------------------

HEADER = "card_token,merchant_code,store_code,amount_yen,occurred_at,transaction_id,original_transaction_id\n"


def test_a_token_linked_in_the_app_pays_the_activated_offer_from_the_card_file(client, tmp_path, capsys):
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    member = joined(consenting(registered_member()), programme)
    offer = make_offer(programme=programme, store=store)
    app = MemberApp(client).sign_in(member)

    assert app.post("me/payment-cards", {"token": " tok_app_5678 "}).status_code == 201
    assert app.post("me/offers/activations", {"offer_id": offer.pk}).json()["activated"] is True
    at = timezone.localtime().replace(microsecond=0).isoformat()
    codes = f"{store.merchant.code},{store.code}"
    card_file = tmp_path / "card-20261204.csv"
    card_file.write_text(HEADER + f"tok_app_5678,{codes},3500,{at},T-APP-1,\n")

    call_command("import_card_transactions", str(card_file))

    assert "matched=1" in capsys.readouterr().out
    redemption = Redemption.objects.get()
    assert (redemption.member_id, redemption.offer_id, redemption.benefit) == (member.pk, offer.pk, 500)
    assert redemption.source == "card:T-APP-1"
    assert app.get("me/offers").json()["offers"][0]["uses"] == 1
