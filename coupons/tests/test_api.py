"""Coupons over the terminal API: issued in the earn answer, redeemed once at /coupons/redeem.

Runs once the API serves coupons (the route `api:coupon_redeem`); until then it is skipped.
"""

import pytest

from api.tests.conftest import Till, now_iso
from coupons.models import Coupon
from coupons.tests.factories import CouponTemplateFactory
from members.models import Member
from members.services import member_reinstate
from points.tests.factories import StoreFactory, TerminalFactory, make_staff
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db

AT = now_iso()


def till_of(client, store) -> Till:
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


@pytest.fixture
def till(client, store):
    return till_of(client, store)


def redeem(till, code, *, key=None):
    return till.post("coupons/redeem", {"code": code, "occurred_at": AT}, key=key)


def test_the_earn_answer_carries_the_coupon_to_print(programme, till):
    CouponTemplateFactory(programme=programme, purchases_needed=1, name="次回300円引き", discount_yen=300)

    answer = till.earn(items=[{"code": "1", "category": "パン", "quantity": 1, "amount_yen": 1000}])

    assert answer.status_code == 201
    [coupon] = answer.json()["coupons"]
    stored = Coupon.objects.get()
    assert coupon["code"] == stored.code and coupon["printed_code"] == stored.printed_code
    assert (coupon["name"], coupon["benefit"], coupon["discount_yen"]) == ("次回300円引き", "discount_yen", 300)
    assert coupon["valid_until"] == stored.valid_until.isoformat()


def test_a_replayed_earn_answers_the_same_coupon(programme, till):
    CouponTemplateFactory(programme=programme, purchases_needed=1)

    first = till.earn(key="e1", occurred_at=AT)
    again = till.earn(key="e1", occurred_at=AT)

    assert len(first.json()["coupons"]) == 1
    assert again.json()["coupons"] == first.json()["coupons"]


def test_a_coupon_is_redeemed_once_over_the_api(programme, till, client):
    CouponTemplateFactory(programme=programme, purchases_needed=1, discount_yen=300)
    code = till.earn().json()["coupons"][0]["printed_code"]

    first = redeem(till, code, key="r1")
    retried = redeem(till, code, key="r1")
    second = redeem(till_of(client, till.terminal.store), code, key="r2")

    assert first.status_code == 201
    assert (first.json()["discount_yen"], first.json()["balance"]) == (300, None)
    assert (retried.status_code, retried.content) == (201, first.content)
    assert (second.status_code, second.json()["error"]["code"]) == (409, "coupon_already_redeemed")


def test_a_coupon_for_another_store_is_refused_over_the_api(programme, till, client):
    other = StoreFactory()
    programme.stores.add(other)
    CouponTemplateFactory(programme=programme, purchases_needed=1, store_ids=[other.pk])
    code = till.earn().json()["coupons"][0]["code"]

    answer = redeem(till, code)

    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "coupon_not_usable_here")


def test_an_unknown_code_is_not_found(till):
    answer = redeem(till, "ZZZZ-ZZZZ")

    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "coupon_not_found")


def test_a_bonus_points_coupon_adds_to_the_balance(programme, till):
    CouponTemplateFactory(
        programme=programme, purchases_needed=1, benefit="bonus_points", discount_yen=0, bonus_points=40
    )
    earned = till.earn(amount=1_000).json()

    answer = redeem(till, earned["coupons"][0]["code"])

    assert answer.status_code == 201
    assert (answer.json()["bonus_points"], answer.json()["balance"]) == (40, earned["balance"] + 40)
    assert answer.json()["transaction_id"] is not None


def test_voiding_the_purchase_withdraws_its_unused_coupon(programme, till):
    # given a purchase that earned a coupon
    CouponTemplateFactory(programme=programme, purchases_needed=1, name="次回300円引き", discount_yen=300)
    earned = till.earn(amount=2_000).json()
    [coupon] = earned["coupons"]
    # when the store voids the purchase
    voided = till.void(earned["transaction_id"])
    # then the void's receipt names the withdrawn coupon, and the coupon can no longer be redeemed
    assert voided.status_code == 201
    assert voided.json()["coupons_withdrawn"] == [coupon["printed_code"]]
    assert Coupon.objects.get().status == Coupon.Status.WITHDRAWN
    refused = redeem(till, coupon["code"])
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "coupon_withdrawn"


def test_a_partial_refund_keeps_the_coupon(programme, till):
    CouponTemplateFactory(programme=programme, purchases_needed=1, discount_yen=300)
    earned = till.earn(amount=2_000).json()

    refunded = till.void(earned["transaction_id"], refund_amount_yen=500)

    assert refunded.status_code == 201
    assert refunded.json()["coupons_withdrawn"] == []
    assert Coupon.objects.get().status == Coupon.Status.ISSUED


def test_a_coupon_already_redeemed_stays_redeemed_when_its_purchase_is_voided(programme, till):
    CouponTemplateFactory(programme=programme, purchases_needed=1, discount_yen=300)
    earned = till.earn(amount=2_000).json()
    assert redeem(till, earned["coupons"][0]["code"]).status_code == 201

    voided = till.void(earned["transaction_id"])

    assert voided.status_code == 201
    assert voided.json()["coupons_withdrawn"] == []
    assert Coupon.objects.get().status == Coupon.Status.REDEEMED


def test_a_suspended_members_coupon_is_refused_until_the_member_is_reinstated(programme, till):
    # given a discount coupon, and its member suspended by the secretariat
    CouponTemplateFactory(programme=programme, purchases_needed=1, discount_yen=300)
    code = till.earn().json()["coupons"][0]["code"]
    member = Coupon.objects.get().member
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)

    # when the store presents it, then after reinstatement
    refused = redeem(till, code, key="r1")
    kept = Coupon.objects.get().status
    member_reinstate(member=member, staff=None)
    honoured = redeem(till, code, key="r2")

    # then the first is refused like the member's card, and the coupon is still there to use
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "member_suspended")
    assert kept == Coupon.Status.ISSUED
    assert (honoured.status_code, honoured.json()["discount_yen"]) == (201, 300)
