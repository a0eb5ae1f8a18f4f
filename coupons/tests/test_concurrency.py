"""Real threads on PostgreSQL: two tills redeeming one coupon at the same moment."""

import pytest

from coupons import errors
from coupons.models import Coupon
from coupons.services import coupon_redeem
from coupons.tests.factories import CouponTemplateFactory
from coupons.tests.helpers import earn
from points.tests.factories import TerminalFactory
from points.tests.test_concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_tills_redeeming_one_code_at_once_redeem_it_once(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1)
    coupon = earn(card, store)[1][0]
    tills = [TerminalFactory(store=store) for _ in range(2)]

    results = run_at_once(2, lambda i: coupon_redeem(code=coupon.code, terminal=tills[i], idempotency_key=f"till-{i}"))

    redeemed = [r for r in results if isinstance(r, Coupon)]
    refused = [r for r in results if isinstance(r, errors.CouponAlreadyRedeemed)]
    assert (len(redeemed), len(refused)) == (1, 1), results
    coupon.refresh_from_db()
    assert (coupon.status, coupon.redeemed_by_terminal) == (Coupon.Status.REDEEMED, redeemed[0].redeemed_by_terminal)


def test_concurrent_retries_with_one_key_redeem_once_and_all_succeed(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1)
    coupon = earn(card, store)[1][0]
    till = TerminalFactory(store=store)

    results = run_at_once(4, lambda i: coupon_redeem(code=coupon.code, terminal=till, idempotency_key="same"))

    assert all(isinstance(r, Coupon) for r in results), results
    assert {r.redeemed_at for r in results} == {Coupon.objects.get().redeemed_at}
