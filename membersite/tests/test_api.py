"""The member API through HTTP, as the member's app calls it: signing in by a one-time link's token,
registering a card from its receipt, and every operation on the member's own data, each read back from the
rows it writes."""

import datetime
import re
import subprocess
import uuid

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.utils import timezone

from coupons.tests.factories import CouponTemplateFactory
from donations.models import Donation
from donations.tests.factories import OrganisationFactory
from members.models import Card, CardEvent, Consent, ConsentPolicy, Member, ThirdParty
from members.selectors import consent_holds
from members.services import card_registration_code
from membersite.api.openapi import OPERATIONS
from membersite.api.views import qr_token
from membersite.models import ApiSession
from membersite.tests.helpers import MemberApp, error_of, registered_member
from points.models import Account, Entry, Lot
from points.tests.factories import ProgrammeFactory, make_card
from qrpoints.models import FlyerRight, QrClaim
from qrpoints.services import store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory
from qrpoints.tests.factories import token_of as qr_token_of
from qrpoints.tokens import qr_url
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


# --- donations ----------------------------------------------------------------------------------------------


def _member_with_points(store, amount_yen: int = 20_000) -> Member:
    member = registered_member()
    buy(member.cards.get(), store, amount_yen=amount_yen)
    return member


def test_the_organisations_are_those_taking_donations_in_the_members_programmes(app, programme, store):
    today = timezone.localdate()
    taking = OrganisationFactory(programme=programme, name="こども食堂ひかり", website="https://hikari.example.jp")
    OrganisationFactory(programme=programme, name="終わった募金", active_until=today)
    OrganisationFactory(programme=ProgrammeFactory(code="RAIL", name="沿線ポイント"), name="他のプログラムの団体")

    answer = app.sign_in(_member_with_points(store)).get("organisations")

    assert answer.status_code == 200
    assert answer.json()["organisations"] == [
        {
            "id": taking.pk,
            "name": "こども食堂ひかり",
            "purpose": taking.purpose,
            "programme": programme.code,
            "programme_name": programme.name,
            "website": "https://hikari.example.jp",
        }
    ]


def test_a_donation_from_the_app_takes_the_points_once_per_key(app, programme, store):
    member = _member_with_points(store)
    before = Account.objects.get(member=member).balance
    organisation = OrganisationFactory(programme=programme, name="こども食堂ひかり")
    body = {"organisation_id": organisation.pk, "points": 100, "key": str(uuid.uuid4())}
    app.sign_in(member)

    donated = app.post("me/donations", body)
    retried = app.post("me/donations", body)

    assert donated.status_code == 201 and retried.status_code == 201
    donation = Donation.objects.get()
    assert (donation.member_id, donation.organisation_id, donation.points, donation.channel) == (
        member.pk,
        organisation.pk,
        100,
        "api",
    )
    (entry,) = Entry.objects.filter(account__member=member, kind=Entry.Kind.DONATION)
    assert (entry.pk, entry.points, entry.reason) == (donation.entry_id, -100, "こども食堂ひかり")
    assert Account.objects.get(member=member).balance == before - 100
    assert donated.json() == retried.json()
    assert donated.json() == {
        "id": donation.pk,
        "organisation": {
            "id": organisation.pk,
            "name": "こども食堂ひかり",
            "programme": programme.code,
            "programme_name": programme.name,
        },
        "points": 100,
        "channel": "api",
        "created_at": donated.json()["created_at"],
        "balance": before - 100,
    }
    listed = app.get("me/donations").json()["donations"]
    assert [(line["id"], line["points"], line["channel"]) for line in listed] == [(donation.pk, 100, "api")]
    # The same key for another gift is refused, not taken for the first one.
    reused = app.post("me/donations", {**body, "points": 200})
    assert error_of(reused) == (422, "idempotency_key_reused")
    assert Donation.objects.count() == 1


def test_a_donation_is_refused_in_the_error_shape_and_writes_nothing(app, programme, store):
    member = _member_with_points(store)
    balance = Account.objects.get(member=member).balance
    organisation = OrganisationFactory(programme=programme)
    elsewhere = OrganisationFactory(programme=ProgrammeFactory(code="RAIL", name="沿線ポイント"))
    ended = OrganisationFactory(programme=programme, active_until=timezone.localdate())
    app.sign_in(member)

    def donate(**changes):
        return app.post(
            "me/donations", {"organisation_id": organisation.pk, "points": 1, "key": str(uuid.uuid4()), **changes}
        )

    too_many = donate(points=balance + 1)
    assert error_of(too_many) == (409, "insufficient_points")
    assert f"{balance:,}" in too_many.json()["error"]["message"]
    assert error_of(donate(organisation_id=elsewhere.pk)) == (409, "organisation_not_accepting")
    assert error_of(donate(organisation_id=ended.pk)) == (409, "organisation_not_accepting")
    assert error_of(donate(organisation_id=999_999)) == (409, "organisation_not_accepting")
    assert error_of(donate(points=0)) == (400, "invalid_request")
    assert error_of(donate(key="not-a-uuid")) == (400, "invalid_request")
    assert error_of(donate(points="100")) == (400, "invalid_request")
    assert not Donation.objects.exists()
    assert not Entry.objects.filter(kind=Entry.Kind.DONATION).exists()
    assert Account.objects.get(member=member).balance == balance


def test_the_record_of_donations_is_a_pdf_of_the_members_donations(app, programme, store):
    member = _member_with_points(store)
    organisation = OrganisationFactory(programme=programme, name="こども食堂ひかり")
    app.sign_in(member)
    for points in (120, 35):
        app.post("me/donations", {"organisation_id": organisation.pk, "points": points, "key": str(uuid.uuid4())})

    pdf = app.get("me/donations/record.pdf")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert member.pseudonym in text and "こども食堂ひかり" in text
    assert "120 pt" in text and "35 pt" in text and "155 pt" in text  # each donation and the total


# --- QR points ----------------------------------------------------------------------------------------------


def test_an_event_code_scanned_in_the_app_credits_its_points_once(app, programme, store):
    member = _member_with_points(store)
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300)
    app.sign_in(member)

    claimed = app.post("me/qr", {"token": qr_token_of(event)})
    again = app.post("me/qr", {"token": qr_url(event)})  # the whole URL of the code, as scanned

    assert claimed.status_code == 200
    assert claimed.json() == {
        "kind": "event",
        "outcome": "credited",
        "points": 300,
        "message": "「駅前夏祭り」の300ポイントを付与しました。",
        "name": "駅前夏祭り",
    }
    claim = QrClaim.objects.get(member=member)
    assert (claim.event_id, claim.entry.kind, claim.entry.points) == (event.pk, Entry.Kind.BONUS, 300)
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["points"]) == ("already", 0)
    assert QrClaim.objects.count() == 1 and Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1
    claims = app.get("me/qr").json()["claims"]
    assert [(line["event"], line["points"]) for line in claims] == [("駅前夏祭り", 300)]
    assert app.get("me").json()["qr"]["claims"] == claims


def test_a_flyer_scanned_in_the_app_is_credited_by_a_visit_to_its_store(app, programme, store, other_store):
    member = _member_with_points(store)
    flyer = FlyerFactory(programme=programme, name="秋の大売り出し", points=50, stores=[store])
    app.sign_in(member)

    taken = app.post("me/qr", {"token": qr_url(flyer)}).json()
    right = FlyerRight.objects.get(member=member)
    assert (taken["kind"], taken["outcome"], taken["points"], right.entry_id) == ("flyer", "right_taken", 0, None)
    waiting = app.get("me/qr").json()["rights"]
    assert [(r["flyer"], r["points"], r["credited_at"], r["store"]) for r in waiting] == [
        ("秋の大売り出し", 50, None, None)
    ]
    elsewhere = app.post("me/qr", {"token": qr_url(store_visit_code_current(store=other_store))}).json()
    assert (elsewhere["outcome"], elsewhere["points"]) == ("not_this_store", 0)
    assert FlyerRight.objects.get(pk=right.pk).entry_id is None

    visited = app.post("me/qr", {"token": qr_url(store_visit_code_current(store=store))}).json()

    assert (visited["kind"], visited["outcome"], visited["points"], visited["name"]) == (
        "visit",
        "credited",
        50,
        store.name,
    )
    right.refresh_from_db()
    assert (right.entry.kind, right.entry.points, right.redeemed_store_id) == (Entry.Kind.BONUS, 50, store.pk)
    (line,) = app.get("me/qr").json()["rights"]
    assert (line["points"], line["store"]) == (50, store.name) and line["credited_at"] is not None


def test_a_forged_foreign_or_unknown_code_is_refused_and_credits_nothing(app, programme, store):
    member = _member_with_points(store)
    event = QrEventFactory(programme=programme)
    token = qr_token_of(event)
    foreign = "e." + signing.Signer(key="another-programme's-secret", salt="qrpoints.event").sign_object(
        [event.pk, event.nonce]
    )
    app.sign_in(member)

    for scanned in (token[:-3] + "AAA", "f" + token[1:], foreign, "not-a-code", "https://example.jp/my/qr/"):
        refused = app.post("me/qr", {"token": scanned}, language="en")
        assert error_of(refused) == (400, "qr_code_invalid"), scanned
        assert refused.json()["error"]["message"].startswith("This QR code is not valid.")
    assert not QrClaim.objects.exists() and not Entry.objects.filter(kind=Entry.Kind.BONUS).exists()


@pytest.mark.parametrize(
    "scanned",
    [
        "e.WzEsIngiXQ:abc",
        " e.WzEsIngiXQ:abc\n",
        "https://points.example.jp/my/qr/e.WzEsIngiXQ:abc/",
        "https://points.example.jp/my/qr/e.WzEsIngiXQ:abc",
        "https://points.example.jp/my/qr/e.WzEsIngiXQ:abc/?utm_source=poster#top",
    ],
)
def test_the_token_is_read_from_the_scanned_url_or_taken_as_it_is(scanned):
    assert qr_token(scanned) == "e.WzEsIngiXQ:abc"
