"""The member site through HTTP: signing in by a one-time link, a card registered from its receipt, and the
member's own changes, each read back from the rows it writes."""

import re

import pytest
from django.core import mail
from django.test import override_settings

from members.models import Card, CardEvent, Consent, ConsentPolicy, Member
from members.selectors import consent_holds
from members.services import card_registration_code
from membersite.tests.helpers import registered_member, sign_in
from points.models import Account
from points.tests.factories import make_card
from till.tests.helpers import till_buy as buy

pytestmark = pytest.mark.django_db


def link_of(message) -> str:
    return re.search(r"https?://\S+/my/link/\?token=\S+", message.body).group(0)


def test_a_link_is_mailed_and_signs_in_only_by_its_button_and_only_once(client):
    member = registered_member(email="taro@example.jp")
    response = client.post("/my/login/", {"email": "TARO@example.jp "})
    assert response.status_code == 200 and len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taro@example.jp"]
    path = link_of(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    token = path.split("token=")[1]
    # Opening the link (a GET, as a mail scanner does) signs nobody in and does not use it up.
    assert client.get(f"/{path}").status_code == 200
    assert client.get("/my/").status_code == 302
    response = client.post("/my/link/", {"token": token})
    assert response.status_code == 302 and response["Location"] == "/my/"
    page = client.get("/my/").content.decode()
    assert member.pseudonym in page
    client.post("/my/logout/")
    again = client.post("/my/link/", {"token": token})
    assert again.status_code == 400 and "有効ではありません" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post("/my/login/", {"email": "nobody@example.jp"})
    assert response.status_code == 200 and "メール" in response.content.decode()
    assert mail.outbox == []


@override_settings(MEMBER_LINKS_PER_HOUR=2)
def test_asking_for_links_is_throttled(client):
    registered_member(email="taro@example.jp")
    for _ in range(2):
        assert client.post("/my/login/", {"email": "taro@example.jp"}).status_code == 200
    response = client.post("/my/login/", {"email": "taro@example.jp"})
    assert response.status_code == 429 and "しばらく" in response.content.decode()
    assert len(mail.outbox) == 2


def test_a_card_is_registered_from_its_receipt(client, store):
    card = make_card()
    receipt = buy(card, store, amount_yen=3_000)
    assert not receipt.registered
    code = card_registration_code(card=card)
    wrong = client.post("/my/register/", {"number": card.number, "code": "AAAA-AAAA"})
    assert "一致しません" in wrong.content.decode()
    response = client.post("/my/register/", {"number": card.number.lower(), "code": code.lower()})
    assert response.status_code == 302 and response["Location"] == "/my/register/details/"
    response = client.post(
        "/my/register/details/",
        {
            "name": "佐藤 一郎",
            "name_kana": "サトウ イチロウ",
            "email": "ichiro@example.jp",
            "phone": "090-1234-5678",
            "postal_code": "100-0001",
            "address": "東京都千代田区1-1",
            "agree": "on",
            "consent-mail_magazine": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/my/"
    member = Member.objects.get(pk=card.member_id)
    assert (member.status, member.name, member.email, member.postal_code) == (
        "active",
        "佐藤 一郎",
        "ichiro@example.jp",
        "100-0001",
    )
    assert consent_holds(member_id=member.pk, purpose="mail_magazine")
    assert set(Consent.objects.filter(member=member).values_list("purpose", "given", "channel")) == {
        ("mail_magazine", True, "site"),
        ("direct_mail", False, "site"),
        ("targeted_offers", False, "site"),
        ("analysis", False, "site"),
    }
    page = client.get("/my/").content.decode()
    assert f"{Account.objects.get(member=member).balance:,}" in page
    # Registered once: the same receipt cannot register it again.
    client.post("/my/logout/")
    again = client.post("/my/register/", {"number": card.number, "code": code})
    assert "既に登録" in again.content.decode()


def test_the_member_changes_their_details_and_consent(client):
    member = registered_member()
    sign_in(client, member)
    response = client.post(
        "/my/profile/",
        {
            "name": "山田 花子",
            "name_kana": "ヤマダ ハナコ",
            "email": member.email,
            "postal_code": "150-0001",
            "address": "渋谷区神宮前1-1",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.address, member.postal_code) == ("渋谷区神宮前1-1", "150-0001")
    assert consent_holds(member_id=member.pk, purpose="mail_magazine")
    client.post("/my/consents/", {"consent-analysis": "on"})  # the mail magazine box left empty: withdrawn
    assert not consent_holds(member_id=member.pk, purpose="mail_magazine")
    assert consent_holds(member_id=member.pk, purpose="analysis")
    assert Member.objects.get(pk=member.pk).opt_in_mail_magazine is False


def test_a_lost_card_is_stopped_and_its_member_moves_to_a_new_card(client, store):
    member = registered_member()
    (old,) = member.cards.all()
    buy(old, store, amount_yen=5_000)
    balance = Account.objects.get(member=member).balance
    # The new card was touched at a till before: its own points join the member's.
    new = make_card()
    buy(new, store, amount_yen=2_000)
    new_points = Account.objects.get(member=new.member).balance
    sign_in(client, member)
    assert client.post(f"/my/cards/{old.pk}/lost/").status_code == 302
    assert Card.objects.get(pk=old.pk).status == Card.Status.BLOCKED
    assert CardEvent.objects.filter(card=old, kind="blocked").exists()
    response = client.post(
        f"/my/cards/{old.pk}/move/",
        {"number": new.number, "code": card_registration_code(card=new), "card_type": new.card_type},
    )
    assert response.status_code == 302
    assert Card.objects.get(pk=new.pk).member_id == member.pk
    assert Card.objects.get(pk=old.pk).replaced_by_id == new.pk
    assert Account.objects.get(member=member).balance == balance + new_points


def test_a_new_policy_is_asked_before_anything_else(client):
    member = registered_member()
    from django.utils import timezone

    ConsentPolicy.objects.create(version="2027-01", title="プライバシーポリシー改定", in_force_from=timezone.now())
    sign_in(client, member)
    response = client.get("/my/history/")
    assert response.status_code == 302 and response["Location"].startswith("/my/policy/")
    refused = client.post("/my/policy/", {"consent-mail_magazine": "on"})
    assert "同意" in refused.content.decode()
    client.post("/my/policy/", {"consent-mail_magazine": "on", "agree": "1"})
    member.refresh_from_db()
    assert member.terms_version == "2027-01"
    assert set(Consent.objects.filter(member=member, policy_version="2027-01").values_list("purpose", "given")) >= {
        ("mail_magazine", True),
        ("analysis", False),
    }
    assert client.get("/my/history/").status_code == 200


def test_withdrawal_is_confirmed_twice_and_ends_everything(client):
    member = registered_member()
    sign_in(client, member)
    first = client.post("/my/withdraw/")
    assert first.status_code == 200 and 'name="confirm"' in first.content.decode()
    assert Member.objects.get(pk=member.pk).status == "active"
    wrong = client.post("/my/withdraw/", {"confirm": "はい"})
    assert Member.objects.get(pk=member.pk).status == "active" and "退会" in wrong.content.decode()
    client.post("/my/withdraw/", {"confirm": "退会"})
    member.refresh_from_db()
    assert (member.status, member.name, member.email) == ("withdrawn", "", "")
    assert not consent_holds(member_id=member.pk, purpose="mail_magazine")
    assert client.get("/my/").status_code == 302


def test_a_link_expires_after_its_minutes(client, monkeypatch):
    import time

    from membersite.services import member_link_url

    member = registered_member()
    token = member_link_url(member=member).split("token=")[1]
    later = time.time() + 16 * 60  # MEMBER_LINK_MINUTES is 15
    monkeypatch.setattr("sesame.tokens_v2.time.time", lambda: later)
    response = client.post("/my/link/", {"token": token})
    assert response.status_code == 400 and "期限切れ" in response.content.decode()
    assert client.get("/my/").status_code == 302


def test_a_member_donates_from_the_site_once_per_form_and_downloads_the_record(client, store, programme):
    import subprocess
    import uuid

    from donations.models import Donation
    from donations.tests.factories import OrganisationFactory
    from points.models import Entry

    member = registered_member()
    buy(member.cards.get(), store, amount_yen=20_000)
    before = Account.objects.get(member=member).balance
    organisation = OrganisationFactory(programme=programme, name="こども食堂ひかり")
    sign_in(client, member)
    page = client.get("/my/donate/").content.decode()
    assert "こども食堂ひかり" in page
    form = {"organisation": organisation.pk, "points": 100, "key": str(uuid.uuid4())}
    assert client.post("/my/donate/", form).status_code == 302
    assert client.post("/my/donate/", form).status_code == 302  # the same form again: once
    donation = Donation.objects.get()
    assert (donation.member_id, donation.points, donation.channel) == (member.pk, 100, "site")
    assert Entry.objects.get(kind="donation", account__member=member).points == -100
    assert Account.objects.get(member=member).balance == before - 100
    too_much = client.post("/my/donate/", {**form, "points": before * 2, "key": str(uuid.uuid4())})
    assert too_much.status_code == 200 and "errors" in too_much.content.decode()
    pdf = client.get("/my/donations/record.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "こども食堂ひかり" in text and "100" in text


def test_an_event_qr_is_claimed_by_its_button_once(client, programme, store):
    from qrpoints.models import QrClaim
    from qrpoints.tests.factories import QrEventFactory, token_of

    member = registered_member()
    buy(member.cards.get(), store)
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300, max_claims=1)
    path = f"/my/qr/{token_of(event)}/"
    # Not signed in: the sign-in page, which brings the member back here.
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"/my/login/?next={path}"
    sign_in(client, member)
    shown = client.get(path)
    assert "駅前夏祭り" in shown.content.decode() and not QrClaim.objects.exists()  # opening credits nothing
    claimed = client.post(path).content.decode()
    assert QrClaim.objects.get(member=member).entry.points == 300
    assert 'id="qr-result"' in claimed
    again = client.post(path).content.decode()
    assert QrClaim.objects.count() == 1 and "すでに受け取り済み" in again
    assert "駅前夏祭り" in client.get("/my/").content.decode()
    other = registered_member(name="他人 二郎")
    sign_in(client, other)
    full = client.post(path).content.decode()
    assert QrClaim.objects.count() == 1 and 'class="errors"' in full
    assert client.get("/my/qr/not-a-code/").status_code == 404


def test_a_flyer_right_is_credited_by_a_visit_to_its_store(client, programme, store, other_store):
    from qrpoints.models import FlyerRight
    from qrpoints.services import store_visit_code_current
    from qrpoints.tests.factories import FlyerFactory, token_of

    member = registered_member()
    buy(member.cards.get(), store)
    flyer = FlyerFactory(programme=programme, name="秋の大売り出し", points=50, stores=[store])
    sign_in(client, member)
    client.post(f"/my/qr/{token_of(flyer)}/")
    right = FlyerRight.objects.get(member=member)
    assert right.entry is None
    client.post(f"/my/qr/{token_of(store_visit_code_current(store=other_store))}/")  # not the flyer's store
    assert FlyerRight.objects.get(pk=right.pk).entry is None
    client.post(f"/my/qr/{token_of(store_visit_code_current(store=store))}/")
    right.refresh_from_db()
    assert right.entry.points == 50 and right.redeemed_store_id == store.pk
    assert "秋の大売り出し" in client.get("/my/").content.decode()
