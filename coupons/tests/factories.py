import datetime

import factory
from django.utils import timezone

from coupons.models import CouponTemplate
from points.tests.factories import ProgrammeFactory


class CouponTemplateFactory(factory.django.DjangoModelFactory):
    """An active "300 yen off on the 5th purchase at a store within 90 days" template, once per member,
    issuing from 200 days ago for a week more."""

    class Meta:
        model = CouponTemplate

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"次回300円引き{n}")
    status = CouponTemplate.Status.ACTIVE
    benefit = CouponTemplate.Benefit.DISCOUNT_YEN
    discount_yen = 300
    condition = CouponTemplate.Condition.NTH_PURCHASE_AT_STORE
    purchases_needed = 5
    within_days = 90
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200))
    ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    valid_days = 30
    limit_per_member = 1
