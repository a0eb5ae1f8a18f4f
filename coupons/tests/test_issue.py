"""Coupons issued on an earning: each condition over the member's history, the limit per member, the issuing
period, and what the earning's answer gets back."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from coupons.models import CODE_ALPHABET, Coupon, CouponTemplate
from coupons.services import coupon_templates_active, coupons_after_earn
from coupons.tests.factories import CouponTemplateFactory
from coupons.tests.helpers import days_ago, earn, purchases
from members.tests.factories import CardFactory, MemberFactory
from points.models import PurchaseCategory
from points.services import points_earn, points_void
from points.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

CATEGORY = CouponTemplate.Condition.CATEGORY_PURCHASES


# --- N-th purchase at the same store within D days --------------------------------------------


def test_the_fifth_purchase_within_90_days_issues_the_coupon(programme, store, card):
    template = CouponTemplateFactory(programme=programme)

    issued = purchases(card, store, [80, 60, 40, 20, 0])

    assert [len(coupons) for coupons in issued] == [0, 0, 0, 0, 1]
    assert issued[-1][0].template == template


def test_the_fourth_purchase_issues_nothing(programme, store, card):
    CouponTemplateFactory(programme=programme)

    issued = purchases(card, store, [60, 40, 20, 0])

    assert issued == [[], [], [], []]
    assert not Coupon.objects.exists()


def test_a_first_purchase_older_than_90_days_does_not_count(programme, store, card):
    CouponTemplateFactory(programme=programme)

    issued = purchases(card, store, [91, 60, 40, 20, 0])

    assert issued[-1] == []


def test_a_purchase_exactly_90_days_before_counts(programme, store, card):
    CouponTemplateFactory(programme=programme, within_days=90)
    now = timezone.now()

    for age in (90, 60, 40, 20):
        earn(card, store, at=now - datetime.timedelta(days=age))
    _posting, coupons = earn(card, store, at=now)

    assert len(coupons) == 1


def test_purchases_at_another_store_do_not_count(programme, store, other_store, card):
    CouponTemplateFactory(programme=programme)

    purchases(card, other_store, [50, 40, 30])
    issued = purchases(card, store, [20, 10, 0])

    assert issued == [[], [], []]


def test_purchases_below_the_minimum_do_not_count(programme, store, card):
    CouponTemplateFactory(programme=programme, min_amount_yen=1_000)

    purchases(card, store, [50, 40, 30, 20], amount=1_000)
    _posting, coupons = earn(card, store, amount=999)

    assert coupons == []


def test_a_purchase_voided_in_full_does_not_count(programme, store, card):
    CouponTemplateFactory(programme=programme)
    first, _ = earn(card, store, at=days_ago(50))
    points_void(entry=first.entries[0], idempotency_key="void-first")

    issued = purchases(card, store, [40, 30, 20, 0])

    assert issued[-1] == []


def test_the_count_restarts_after_each_coupon(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=2, within_days=None, limit_per_member=None)

    issued = purchases(card, store, [5, 4, 3, 2, 1])

    assert [len(coupons) for coupons in issued] == [0, 1, 0, 1, 0]


# --- purchases from an item category ----------------------------------------------------------


def test_the_third_purchase_from_a_category_issues_the_coupon(programme, store, other_store, card):
    CouponTemplateFactory(programme=programme, condition=CATEGORY, item_category="パン", purchases_needed=3)

    first = earn(card, store, at=days_ago(3), categories=["パン", "飲料"])[1]
    second = earn(card, other_store, at=days_ago(2), categories=["パン"])[1]
    third = earn(card, store, at=days_ago(1), categories=["パン"])[1]

    assert (first, second, len(third)) == ([], [], 1)


def test_purchases_without_the_category_do_not_count(programme, store, card):
    CouponTemplateFactory(programme=programme, condition=CATEGORY, item_category="パン", purchases_needed=3)

    earn(card, store, at=days_ago(3), categories=["パン"])
    earn(card, store, at=days_ago(2), categories=["飲料"])
    earn(card, store, at=days_ago(1))
    _posting, coupons = earn(card, store, categories=["飲料"])

    assert coupons == []


def test_the_categories_of_every_earning_are_recorded_in_one_form(programme, store, card):
    posting, _ = earn(card, store, categories=["パン", "飲料", "ﾊﾟﾝ", ""])

    recorded = PurchaseCategory.objects.filter(earn=posting.entries[0])
    assert sorted(recorded.values_list("category", flat=True)) == ["パン", "飲料"]


# --- limit per member, issuing period, status -----------------------------------------------


def test_a_member_gets_no_more_coupons_than_the_limit(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1, limit_per_member=2)

    issued = purchases(card, store, [3, 2, 1, 0])

    assert [len(coupons) for coupons in issued] == [1, 1, 0, 0]


def test_the_limit_is_per_member(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1, limit_per_member=1)
    earn(card, store)

    _posting, coupons = earn(CardFactory(member=MemberFactory()), store)

    assert len(coupons) == 1


def test_no_coupon_before_the_issuing_period(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1, starts_at=days_ago(-1), ends_at=days_ago(-10))

    assert earn(card, store)[1] == []


def test_no_coupon_from_the_end_of_the_issuing_period(programme, store, card):
    ends_at = days_ago(1)
    CouponTemplateFactory(programme=programme, purchases_needed=1, starts_at=days_ago(10), ends_at=ends_at)

    assert earn(card, store, at=ends_at)[1] == []
    assert len(earn(card, store, at=ends_at - datetime.timedelta(seconds=1))[1]) == 1


@pytest.mark.parametrize("status", [CouponTemplate.Status.DRAFT, CouponTemplate.Status.PAUSED])
def test_a_template_not_active_issues_nothing(programme, store, card, status):
    CouponTemplateFactory(programme=programme, purchases_needed=1, status=status)

    assert earn(card, store)[1] == []


def test_a_template_of_another_programme_issues_nothing(store, card):
    CouponTemplateFactory(programme=ProgrammeFactory(code="OTHER"), purchases_needed=1)

    assert earn(card, store)[1] == []


# --- the coupon in the earning's answer ---------------------------------------------------------


def test_the_coupon_is_returned_with_a_printable_code_and_its_validity(programme, store, card):
    # 23:30 in Tokyo is the next day in UTC: validity counts Tokyo days.
    at = datetime.datetime(2026, 11, 24, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    CouponTemplateFactory(
        programme=programme,
        purchases_needed=1,
        valid_days=30,
        starts_at=at - datetime.timedelta(days=1),
        ends_at=at + datetime.timedelta(days=1),
    )

    posting, [coupon] = earn(card, store, at=at)

    assert len(coupon.code) == 8 and set(coupon.code) <= set(CODE_ALPHABET)
    assert coupon.printed_code == f"{coupon.code[:4]}-{coupon.code[4:]}"
    assert coupon.valid_until == datetime.date(2026, 12, 23)
    assert (coupon.member_id, coupon.issued_at_store, coupon.issued_by) == (
        card.member_id,
        store,
        posting.entries[0],
    )
    assert coupon.status == Coupon.Status.ISSUED


def test_a_retried_earning_returns_the_same_coupons_and_issues_no_more(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1, limit_per_member=None)
    _posting, first = earn(card, store, key="till-retry")

    replayed, again = earn(card, store, key="till-retry")

    assert replayed.replayed
    assert [c.code for c in again] == [c.code for c in first]
    assert Coupon.objects.count() == 1


def test_a_purchase_worth_no_points_issues_nothing(programme, store, card):
    CouponTemplateFactory(programme=programme, purchases_needed=1)

    assert earn(card, store, amount=99)[1] == []


# --- cost at the till ----------------------------------------------------------------------


def test_without_an_active_template_the_coupons_cost_one_query(programme, store, card, django_assert_num_queries):
    CouponTemplateFactory(programme=programme, status=CouponTemplate.Status.PAUSED)
    with transaction.atomic():
        posting = points_earn(card=card, store=store, amount_yen=1_000, idempotency_key="q1")
        # The process's copy of the templates is loaded once; then one query asks whether they changed.
        coupon_templates_active(programme_id=programme.pk, at=timezone.now())

        with django_assert_num_queries(1):
            coupons_after_earn(posting=posting, store=store, occurred_at=timezone.now(), item_categories=frozenset())


def test_twenty_active_templates_are_counted_in_four_queries(programme, store, card, django_assert_num_queries):
    for n in range(10):
        CouponTemplateFactory(programme=programme, purchases_needed=50 + n, min_amount_yen=n * 100)
        CouponTemplateFactory(programme=programme, condition=CATEGORY, item_category=f"c{n}", purchases_needed=50)
    categories = frozenset({"c1", "c2", "c3"})
    with transaction.atomic():
        posting = points_earn(card=card, store=store, amount_yen=1_000, idempotency_key="q20")
        coupon_templates_active(programme_id=programme.pk, at=timezone.now())

        # Whether the templates changed, the member's coupons, purchases at the store, purchases by category (the
        # till records the categories before, with the purchase).
        with django_assert_num_queries(4):
            coupons = coupons_after_earn(
                posting=posting, store=store, occurred_at=timezone.now(), item_categories=categories
            )

    assert coupons == []


def test_a_template_paused_after_an_earning_issues_nothing_at_the_next(programme, store, card):
    # given a template that issues on every purchase, and an earning that loaded it
    template = CouponTemplateFactory(programme=programme, purchases_needed=1, limit_per_member=None)
    assert len(earn(card, store, key="before")[1]) == 1
    # when an operator pauses it (a save, as the admin does)
    template.status = CouponTemplate.Status.PAUSED
    template.save()
    # then the next earning issues no coupon
    assert earn(card, store, key="after")[1] == []
