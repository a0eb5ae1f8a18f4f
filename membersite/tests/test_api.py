"""The member API through HTTP, as the member's app calls it: signing in by a one-time link's token,
registering a card from its receipt, and every operation on the member's own data, each read back from the
rows it writes."""

import datetime
import re

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.utils import timezone

from coupons.tests.factories import CouponTemplateFactory
from members.models import Card, CardEvent, Consent, ConsentPolicy, Member, ThirdParty
from members.selectors import consent_holds
from members.services import card_registration_code
from membersite.api.openapi import OPERATIONS
from membersite.models import ApiSession
from membersite.tests.helpers import MemberApp, error_of, registered_member
from points.models import Account, Lot
from points.tests.factories import make_card
from rallies.tests.factories import RallyFactory, RallyGoalFactory
from ranks.models import Rank, RankPolicy
from till.tests.helpers import till_buy as buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(client):
    return MemberApp(client)


def token_of(message) -> str:
    return re.search(r"/my/link/\?token=(\S+)", message.body).group(1)


# --- signing in ---------------------------------------------------------------------------------------------


def test_a_links_token_starts_a_session_once_and_the_session_reads_the_members_page(app):
    member = registered_member(email="taro@example.jp")

    asked = app.post("links", {"email": "TARO@example.jp "})
    assert asked.status_code == 202 and "15" in asked.json()["message"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["taro@example.jp"]
    token = token_of(mail.outbox[0])

    started = app.post("sessions", {"token": token})
    assert started.status_code == 201
    session = started.json()["session"]
    assert ApiSession.objects.get(member=member).expires_at > timezone.now() + datetime.timedelta(days=29)
    assert session not in str(ApiSession.objects.values_list("key_hash", flat=True))  # kept only as a hash

    me = MemberApp(app.client, session).get("me")
    assert me.status_code == 200 and me.json()["pseudonym"] == member.pseudonym
    assert "no-store" in me["Cache-Control"]

    again = app.post("sessions", {"token": token})
    assert error_of(again) == (400, "link_invalid")
    assert "有効ではありません" in again.json()["error"]["message"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app):
    registered_member(email="taro@example.jp")

    answer = app.post("links", {"email": "nobody@example.jp"})

    assert answer.status_code == 202 and answer.json() == app.post("links", {"email": "taro@example.jp"}).json()
    assert [message.to for message in mail.outbox] == [["taro@example.jp"]]


@override_settings(MEMBER_LINKS_PER_HOUR=2)
def test_asking_for_links_is_throttled_in_the_error_shape(app):
    registered_member(email="taro@example.jp")
    for _ in range(2):
        assert app.post("links", {"email": "taro@example.jp"}).status_code == 202

    refused = app.post("links", {"email": "taro@example.jp"}, language="en")

    assert error_of(refused) == (429, "throttled")
    assert refused.json()["error"]["message"] == "Too many attempts. Please wait a while and try again."
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert len(mail.outbox) == 2


def test_without_a_live_session_every_members_operation_is_401(app):
    member = registered_member()
    assert error_of(app.get("me")) == (401, "unauthorized")
    assert error_of(MemberApp(app.client, "not-a-session").get("me/cards")) == (401, "unauthorized")

    app.sign_in(member)
    assert app.delete("sessions/current").status_code == 204
    ended = app.get("me", language="en")

    assert error_of(ended) == (401, "unauthorized") and ended["WWW-Authenticate"] == "Bearer"
    assert ended.json()["error"]["message"].startswith("Please sign in again")
    assert ApiSession.objects.get(member=member).ended_at is not None


def test_a_link_asked_for_with_a_malformed_address_is_refused_with_its_field(app):
    refused = app.post("links", {"email": "not an address"})

    assert error_of(refused) == (400, "invalid_request")
    assert [detail["field"] for detail in refused.json()["error"]["details"]] == ["email"]


def test_a_method_a_route_does_not_serve_is_405_in_the_error_shape(app):
    answer = app.sign_in(registered_member()).delete("me")

    assert error_of(answer) == (405, "method_not_allowed") and answer["Allow"] == "GET"


# --- registering a card from its receipt --------------------------------------------------------------------


def _registration(ticket: str, **changes) -> dict:
    """The documented example of a registration, with this ticket."""
    return {**next(op.example for op in OPERATIONS if op.operation_id == "registration"), "ticket": ticket, **changes}


def test_a_card_is_registered_from_its_receipt_and_its_holder_signed_in(app, store):
    card = make_card()
    buy(card, store, amount_yen=3_000)
    code = card_registration_code(card=card)
    assert error_of(app.post("registrations/check", {"number": card.number, "code": "AAAA-AAAA"})) == (
        400,
        "card_code_mismatch",
    )

    checked = app.post("registrations/check", {"number": card.number.lower(), "code": code.lower()})
    assert checked.status_code == 200
    assert checked.json()["card"] == {"card_type": card.card_type, "last4": card.number_last4}
    assert [line["key"] for line in checked.json()["consents"]] == [
        "mail_magazine",
        "direct_mail",
        "targeted_offers",
        "analysis",
    ]
    registered = app.post("registrations", _registration(checked.json()["ticket"]))

    assert registered.status_code == 201
    member = Member.objects.get(pk=card.member_id)
    assert (member.status, member.name, member.phone, member.address) == (
        "active",
        "鈴木 美咲",
        "080-2345-6789",
        "大阪府大阪市北区梅田1-1",
    )
    assert consent_holds(member_id=member.pk, purpose="analysis")
    assert set(Consent.objects.filter(member=member).values_list("purpose", "given", "channel")) == {
        ("mail_magazine", True, "site"),
        ("direct_mail", False, "site"),
        ("targeted_offers", False, "site"),
        ("analysis", True, "site"),
    }
    me = MemberApp(app.client, registered.json()["session"]).get("me").json()
    assert me["balances"][0]["balance"] == Account.objects.get(member=member).balance == 30
    # Registered once: neither the receipt nor the ticket registers it again.
    assert error_of(app.post("registrations/check", {"number": card.number, "code": code})) == (
        409,
        "card_already_registered",
    )
    assert error_of(app.post("registrations", _registration(checked.json()["ticket"]))) == (
        409,
        "card_already_registered",
    )


def test_a_registration_is_checked_as_the_sites_form_checks_it(app):
    card = make_card()
    ticket = app.post("registrations/check", {"number": card.number, "code": card_registration_code(card=card)}).json()[
        "ticket"
    ]

    bad_phone = app.post("registrations", _registration(ticket, phone="090-ABCD"), language="en")
    not_agreed = app.post("registrations", _registration(ticket, agree=False))
    unknown_purpose = app.post("registrations", _registration(ticket, consents={"lottery": True}))

    assert error_of(bad_phone) == (400, "invalid_request")
    assert [detail["field"] for detail in bad_phone.json()["error"]["details"]] == ["phone"]
    assert error_of(not_agreed) == (400, "invalid_request")
    assert [detail["field"] for detail in unknown_purpose.json()["error"]["details"]] == ["consents.lottery"]
    assert Member.objects.get(pk=card.member_id).status == "unregistered"


def test_a_tampered_or_expired_ticket_is_refused(app, monkeypatch):
    card = make_card()
    body = {"number": card.number, "code": card_registration_code(card=card)}
    ticket = app.post("registrations/check", body).json()["ticket"]

    tampered = app.post("registrations", _registration(ticket[:-2] + "xx"))
    half_an_hour_ago = signing.b62_encode(int(timezone.now().timestamp()) - 31 * 60)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: half_an_hour_ago)
    expired = app.post("registrations", _registration(app.post("registrations/check", body).json()["ticket"]))

    assert error_of(tampered) == (400, "ticket_invalid")
    assert error_of(expired) == (400, "ticket_invalid")
    assert Member.objects.get(pk=card.member_id).status == "unregistered"


# --- the member's own -------------------------------------------------------------------------------------


def test_the_overview_shows_balances_expiry_rank_coupons_and_rallies(app, programme, store):
    RankPolicy.objects.create(programme=programme, last_months=3)
    Rank.objects.create(programme=programme, name="レギュラー", threshold_yen=0)
    Rank.objects.create(programme=programme, name="シルバー", threshold_yen=50_000)
    CouponTemplateFactory(programme=programme, purchases_needed=1)
    RallyGoalFactory(rally=RallyFactory(programme=programme, store_ids=[store.pk], name="秋のラリー"), target=3)
    member = registered_member()
    (card,) = member.cards.all()
    buy(card, store, amount_yen=12_000)

    me = app.sign_in(member).get("me").json()

    account = Account.objects.get(member=member)
    (lot,) = Lot.objects.filter(account=account)
    assert me["balances"] == [
        {
            "programme": programme.code,
            "name": programme.name,
            "balance": account.balance,
            "debt": 0,
            "purchased": None,
        }
    ]
    assert me["expiring"] == [
        {"month": f"{lot.expires_on:%Y-%m}", "programme_name": programme.name, "points": lot.remaining}
    ]
    (rank,) = me["ranks"]
    assert (rank["programme"], rank["rank"]["name"], rank["rank"]["next_rank"], rank["rank"]["to_next_yen"]) == (
        programme.code,
        "レギュラー",
        "シルバー",
        38_000,
    )
    (coupon,) = me["coupons"]
    assert coupon["status"] == "issued" and coupon["discount_yen"] == 300
    rallies = [(r["name"], r["stamps"], r["goals"], r["goals_reached"]) for r in me["rallies"]]
    assert rallies == [("秋のラリー", 1, 1, 0)]


def test_the_history_lists_the_ledger_entries_newest_first(app, store):
    member = registered_member()
    (card,) = member.cards.all()
    buy(card, store, amount_yen=1_000)
    buy(card, store, amount_yen=5_000)

    entries = app.sign_in(member).get("me/history", language="en").json()["entries"]

    assert [(e["kind"], e["kind_label"], e["points"], e["store"]) for e in entries] == [
        ("earn", "Earn", 50, store.name),
        ("earn", "Earn", 10, store.name),
    ]


def test_the_member_changes_their_details_once_for_every_programme(app):
    member = registered_member()
    app.sign_in(member)

    changed = app.patch("me/profile", {"postal_code": "150-0001", "address": "渋谷区神宮前1-1"})
    refused = app.patch("me/profile", {"phone": "090-ABCD", "name": ""}, language="en")

    assert changed.status_code == 200 and changed.json()["address"] == "渋谷区神宮前1-1"
    member.refresh_from_db()
    assert (member.name, member.address, member.postal_code) == ("山田 花子", "渋谷区神宮前1-1", "150-0001")
    assert app.get("me/profile").json() == changed.json()
    assert error_of(refused) == (400, "invalid_request")
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"name", "phone"}
    assert "This field is required." in {d["message"] for d in refused.json()["error"]["details"]}


def test_the_member_answers_for_each_purpose_and_a_third_party(app):
    party = ThirdParty.objects.create(name="商店街振興組合", purpose="来街調査", items="年代, 郵便番号の上3桁")
    member = registered_member()
    app.sign_in(member)
    assert consent_holds(member_id=member.pk, purpose="mail_magazine")

    answered = app.put("me/consents", {"consents": {"analysis": True, f"third_party_{party.pk}": True}})

    assert answered.status_code == 200
    assert not consent_holds(member_id=member.pk, purpose="mail_magazine")  # left out: withdrawn
    assert consent_holds(member_id=member.pk, purpose="analysis")
    assert consent_holds(member_id=member.pk, purpose="third_party", third_party_id=party.pk)
    lines = {line["key"]: line for line in app.get("me/consents").json()["consents"]}
    assert lines[f"third_party_{party.pk}"]["given"] and "来街調査" in lines[f"third_party_{party.pk}"]["detail"]
    assert not lines["mail_magazine"]["given"] and lines["mail_magazine"]["at"] is not None
    assert Member.objects.get(pk=member.pk).opt_in_mail_magazine is False
    assert error_of(app.put("me/consents", {"consents": {"third_party_999999": True}})) == (400, "invalid_request")


def test_a_new_policy_is_answered_before_anything_else(app):
    member = registered_member()
    ConsentPolicy.objects.create(version="2027-01", title="プライバシーポリシー改定", in_force_from=timezone.now())
    app.sign_in(member)

    assert error_of(app.get("me/history")) == (403, "policy_not_agreed")
    state = app.get("me/policy").json()
    assert state["needed"] and state["policy"]["version"] == "2027-01"
    assert error_of(app.post("me/policy", {"consents": {"mail_magazine": True}})) == (400, "invalid_request")

    agreed = app.post("me/policy", {"consents": {"mail_magazine": True}, "agree": True})

    assert agreed.status_code == 200 and agreed.json()["needed"] is False
    member.refresh_from_db()
    assert member.terms_version == "2027-01"
    assert set(Consent.objects.filter(member=member, policy_version="2027-01").values_list("purpose", "given")) == {
        ("mail_magazine", True),
        ("direct_mail", False),
        ("targeted_offers", False),
        ("analysis", False),
    }
    assert app.get("me/history").status_code == 200
    # Answered again (a retry after a lost answer): nothing more is recorded.
    app.post("me/policy", {"consents": {"analysis": True}, "agree": True})
    assert not consent_holds(member_id=member.pk, purpose="analysis")


def test_a_lost_card_is_stopped_and_the_member_moves_to_a_new_card(app, store):
    member = registered_member()
    (old,) = member.cards.all()
    buy(old, store, amount_yen=5_000)
    balance = Account.objects.get(member=member).balance
    new = make_card()
    buy(new, store, amount_yen=2_000)  # used at a till before: its own points join the member's
    new_points = Account.objects.get(member=new.member).balance
    app.sign_in(member)
    assert [(c["id"], c["status"], c["can_report_lost"]) for c in app.get("me/cards").json()["cards"]] == [
        (old.pk, "active", True)
    ]

    lost = app.post(f"me/cards/{old.pk}/lost")

    assert lost.status_code == 200 and lost.json()["status"] == "blocked" and lost.json()["can_move"]
    assert Card.objects.get(pk=old.pk).status == Card.Status.BLOCKED
    assert CardEvent.objects.filter(card=old, kind="blocked").exists()
    assert error_of(app.post(f"me/cards/{old.pk}/lost")) == (409, "card_already_stopped")
    wrong_code = {"card_type": new.card_type, "number": new.number, "code": "AAAA-AAAA"}
    assert error_of(app.post(f"me/cards/{old.pk}/move", wrong_code)) == (400, "card_code_mismatch")

    moved = app.post(
        f"me/cards/{old.pk}/move",
        {"card_type": new.card_type, "number": new.number, "code": card_registration_code(card=new)},
    )

    assert moved.status_code == 200 and (moved.json()["id"], moved.json()["last4"]) == (new.pk, new.number_last4)
    assert Card.objects.get(pk=new.pk).member_id == member.pk
    assert Card.objects.get(pk=old.pk).replaced_by_id == new.pk
    assert Account.objects.get(member=member).balance == balance + new_points
    assert app.get(f"me/cards/{old.pk}").json()["status"] == "replaced"


def test_withdrawal_takes_the_typed_confirmation_and_ends_everything(app):
    member = registered_member()
    app.sign_in(member)

    wrong = app.post("me/withdrawal", {"confirm": "はい"})
    assert error_of(wrong) == (400, "invalid_request") and wrong.json()["error"]["details"][0]["field"] == "confirm"
    assert Member.objects.get(pk=member.pk).status == "active"

    withdrawn = app.post("me/withdrawal", {"confirm": "退会"})

    assert withdrawn.status_code == 200 and withdrawn.json() == {"pseudonym": member.pseudonym, "status": "withdrawn"}
    member.refresh_from_db()
    assert (member.status, member.name, member.email) == ("withdrawn", "", "")
    assert not consent_holds(member_id=member.pk, purpose="mail_magazine")
    assert Card.objects.get(member=member).status != Card.Status.ACTIVE
    assert error_of(app.get("me")) == (401, "unauthorized")


def test_wrong_tokens_are_refused_without_locking_out_the_address(app):
    """A signed token cannot be guessed: old or mistyped links from one shared address (a mobile carrier's)
    are refused one by one and never lock out the members behind it."""
    member = registered_member(email="taro@example.jp")
    for _ in range(8):
        assert error_of(app.post("sessions", {"token": "AAAAAQwrongwrongwrong"})) == (400, "link_invalid")
    app.post("links", {"email": "taro@example.jp"})
    assert app.post("sessions", {"token": token_of(mail.outbox[0])}).status_code == 201
    assert ApiSession.objects.filter(member=member).exists()
