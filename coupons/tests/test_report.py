"""The coupon report: issued, redeemed and the redemption rate over a period, by template and by store."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from coupons.models import CouponTemplate
from coupons.selectors import Figures, coupon_report
from coupons.services import coupon_redeem
from coupons.tests.factories import CouponTemplateFactory
from coupons.tests.helpers import earn
from members.tests.factories import CardFactory, MemberFactory
from points.tests.factories import TerminalFactory

pytestmark = pytest.mark.django_db


def cards(count):
    return [CardFactory(member=MemberFactory()) for _ in range(count)]


@pytest.fixture
def week(programme, store, other_store):
    """Two templates; 5 coupons of the first issued at the store, 3 of the second at the other store; three of
    the first redeemed at the other store and one of the second at the store."""
    first = CouponTemplateFactory(
        programme=programme, name="5千円以上で300円引き", purchases_needed=1, min_amount_yen=5_000, discount_yen=300
    )
    second = CouponTemplateFactory(
        programme=programme,
        name="パン100円引き",
        condition=CouponTemplate.Condition.CATEGORY_PURCHASES,
        item_category="パン",
        purchases_needed=1,
        discount_yen=100,
    )
    at_store = [earn(card, store, amount=5_000)[1][0] for card in cards(5)]
    at_other = [earn(card, other_store, amount=1_000, categories=["パン"])[1][0] for card in cards(3)]
    here, there = TerminalFactory(store=store), TerminalFactory(store=other_store)
    for n, coupon in enumerate(at_store[:3]):
        coupon_redeem(code=coupon.code, terminal=there, idempotency_key=f"a{n}")
    coupon_redeem(code=at_other[0].code, terminal=here, idempotency_key="b0")
    return first, second


def today_report(**kwargs):
    today = timezone.localdate()
    return coupon_report(start=today, end=today + datetime.timedelta(days=1), **kwargs)


def test_the_report_counts_issued_and_redeemed_by_template(week):
    first, second = week

    report = today_report()

    assert [(line.template, line.figures) for line in report.by_template] == [
        (first, Figures(issued=5, issued_members=5, redeemed=3, redeemed_members=3, discount_yen=900)),
        (second, Figures(issued=3, issued_members=3, redeemed=1, redeemed_members=1, discount_yen=100)),
    ]
    assert report.total == Figures(issued=8, issued_members=8, redeemed=4, redeemed_members=4, discount_yen=1000)


def test_the_redemption_rate_is_redeemed_out_of_issued(week):
    report = today_report()

    assert [line.figures.rate_percent for line in report.by_template] == [Decimal("60.0"), Decimal("33.3")]
    assert report.total.rate_percent == Decimal("50.0")


def test_the_report_by_store_counts_issues_there_and_redemptions_there(week, store, other_store):
    report = today_report()

    rows = [
        (line.store, line.figures.issued, line.figures.redeemed, line.redeemed_here, line.discount_here_yen)
        for line in report.by_store
    ]
    assert rows == [(store, 5, 3, 1, 100), (other_store, 3, 1, 3, 900)]


def test_coupons_issued_outside_the_period_are_not_counted(week):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    report = coupon_report(start=yesterday - datetime.timedelta(days=6), end=yesterday)

    assert (report.by_template, report.by_store, report.total.issued) == ([], [], 0)


def test_a_period_without_coupons_has_no_rate():
    assert Figures().rate_percent is None
