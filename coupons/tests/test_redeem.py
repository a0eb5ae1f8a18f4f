"""Redeeming a coupon at a till: once, idempotently, and only where and while it is valid."""

import datetime

import pytest
from django.utils import timezone

from coupons import errors
from coupons.models import Coupon, CouponTemplate
from coupons.services import coupon_redeem, coupons_expire_lapsed
from coupons.tests.factories import CouponTemplateFactory
from coupons.tests.helpers import earn
from points.models import Account, Entry, Funder
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join
from points.verification import ledger_problems
from stores.models import Store

pytestmark = pytest.mark.django_db


def issue(card, store, **template):
    """A coupon issued to the card's member at the store, from a template that issues on every purchase."""
    CouponTemplateFactory(programme=store.programmes.get(), purchases_needed=1, **template)
    _posting, [coupon] = earn(card, store)
    return coupon


def test_a_coupon_is_redeemed_at_a_till(store, terminal, card):
    coupon = issue(card, store)
    at = timezone.now()

    redeemed = coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1", occurred_at=at)

    coupon.refresh_from_db()
    assert redeemed.pk == coupon.pk
    assert (coupon.status, coupon.redeemed_at, coupon.redeemed_at_store, coupon.redeemed_by_terminal) == (
        Coupon.Status.REDEEMED,
        at,
        store,
        terminal,
    )


def test_a_second_redemption_is_refused_with_its_code(store, terminal, card):
    coupon = issue(card, store)
    coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1")

    with pytest.raises(errors.CouponAlreadyRedeemed) as refused:
        coupon_redeem(code=coupon.code, terminal=TerminalFactory(store=store), idempotency_key="r2")

    assert refused.value.code == "coupon_already_redeemed"


def test_a_retry_with_the_same_key_returns_the_same_redemption(store, terminal, card):
    coupon = issue(card, store)
    first = coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1", occurred_at=timezone.now())

    again = coupon_redeem(
        code=coupon.code,
        terminal=terminal,
        idempotency_key="r1",
        occurred_at=timezone.now() + datetime.timedelta(seconds=5),
    )

    assert (again.pk, again.redeemed_at, again.status) == (first.pk, first.redeemed_at, Coupon.Status.REDEEMED)


def test_a_key_used_for_one_coupon_is_refused_for_another(store, terminal, card):
    first = issue(card, store, limit_per_member=None)
    second = earn(card, store)[1][0]
    coupon_redeem(code=first.code, terminal=terminal, idempotency_key="r1")

    with pytest.raises(errors.CouponKeyReused) as refused:
        coupon_redeem(code=second.code, terminal=terminal, idempotency_key="r1")

    assert refused.value.code == "coupon_key_reused"
    second.refresh_from_db()
    assert second.status == Coupon.Status.ISSUED


def test_the_code_is_accepted_as_printed_or_typed(store, terminal, card):
    coupon = issue(card, store)
    typed = "－".join(["".join(chr(ord(c) + 0xFEE0) for c in coupon.code[:4]).lower(), coupon.code[4:].lower()])

    redeemed = coupon_redeem(code=typed, terminal=terminal, idempotency_key="r1")

    assert redeemed.pk == coupon.pk


def test_an_unknown_code_is_refused(store, terminal, card):
    with pytest.raises(errors.CouponNotFound) as refused:
        coupon_redeem(code="ABCD-EFGH", terminal=terminal, idempotency_key="r1")

    assert refused.value.code == "coupon_not_found"


def test_a_coupon_past_its_last_day_is_refused(store, terminal, card):
    coupon = issue(card, store, valid_days=30)
    last_day = coupon.valid_until
    tokyo = timezone.get_default_timezone()
    day_after = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time(0, 1), tzinfo=tokyo)

    with pytest.raises(errors.CouponExpired) as refused:
        coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1", occurred_at=day_after)

    assert refused.value.code == "coupon_expired"
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.ISSUED


def test_a_coupon_is_still_good_on_its_last_day(store, terminal, card):
    coupon = issue(card, store, valid_days=30)
    tokyo = timezone.get_default_timezone()
    last_evening = datetime.datetime.combine(coupon.valid_until, datetime.time(23, 59), tzinfo=tokyo)

    redeemed = coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1", occurred_at=last_evening)

    assert redeemed.status == Coupon.Status.REDEEMED


def test_a_coupon_marked_expired_overnight_is_refused(store, terminal, card):
    coupon = issue(card, store, valid_days=1)
    assert coupons_expire_lapsed(today=coupon.valid_until + datetime.timedelta(days=1)) == 1

    with pytest.raises(errors.CouponExpired):
        coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1")


def test_a_coupon_for_other_stores_is_refused_here(store, other_store, terminal, card):
    coupon = issue(card, store, store_ids=[other_store.pk])

    with pytest.raises(errors.CouponNotUsableHere) as refused:
        coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1")

    assert refused.value.code == "coupon_not_usable_here"


def test_a_coupon_for_a_store_category_is_taken_at_every_store_of_it(store, other_store, card):
    coupon = issue(card, store, categories=[Store.Category.BOOKSHOP])

    redeemed = coupon_redeem(code=coupon.code, terminal=TerminalFactory(store=other_store), idempotency_key="r1")

    assert redeemed.redeemed_at_store == other_store


def test_a_coupon_of_another_programme_is_refused(store, card):
    coupon = issue(card, store)
    elsewhere = join(StoreFactory(), ProgrammeFactory(code="OTHER"))

    with pytest.raises(errors.CouponOtherProgramme) as refused:
        coupon_redeem(code=coupon.code, terminal=TerminalFactory(store=elsewhere), idempotency_key="r1")

    assert refused.value.code == "coupon_other_programme"


def test_a_paused_template_still_honours_its_coupons(store, terminal, card):
    coupon = issue(card, store)
    CouponTemplate.objects.update(status=CouponTemplate.Status.PAUSED)

    assert coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1").status == Coupon.Status.REDEEMED


def test_a_bonus_points_coupon_gives_its_points_once(store, terminal, card):
    coupon = issue(card, store, benefit=CouponTemplate.Benefit.BONUS_POINTS, discount_yen=0, bonus_points=50)
    account = Account.objects.get(member=card.member)
    before = account.balance

    coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1")
    coupon_redeem(code=coupon.code, terminal=terminal, idempotency_key="r1")

    coupon.refresh_from_db()
    account.refresh_from_db()
    assert account.balance == before + 50
    assert (coupon.bonus.kind, coupon.bonus.points, coupon.bonus.funder, coupon.bonus.store) == (
        Entry.Kind.BONUS,
        50,
        Funder.SECRETARIAT,
        store,
    )
    assert ledger_problems(deep=True) == []


def test_the_nightly_expiry_marks_only_lapsed_coupons(store, terminal, card):
    lapsed = issue(card, store, valid_days=1, limit_per_member=None)
    later = earn(card, store)[1][0]
    Coupon.objects.filter(pk=later.pk).update(valid_until=lapsed.valid_until + datetime.timedelta(days=1))

    expired = coupons_expire_lapsed(today=lapsed.valid_until + datetime.timedelta(days=1))

    assert expired == 1
    assert dict(Coupon.objects.values_list("pk", "status")) == {
        lapsed.pk: Coupon.Status.EXPIRED,
        later.pk: Coupon.Status.ISSUED,
    }
