"""Billing test data: settings, ledger activity made through the real services, and a closed period."""

from __future__ import annotations

import datetime
import itertools

import factory
from django.utils import timezone

from billing.models import BillingSettings
from billing.periods import period_bounds, period_containing
from points.services import points_earn, points_spend
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card, make_staff  # noqa: F401

_keys = itertools.count(1)


class BillingSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingSettings
        django_get_or_create = ("programme",)
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)

    @factory.post_generation
    def secretariat(settings, create, extracted, **kwargs):
        """The programme's secretariat, which the documents print as their issuer (unless the test set one)."""
        programme = settings.programme
        if create and not programme.secretariat_name:
            programme.secretariat_name = "ひかり商店街振興組合 事務局"
            programme.secretariat_postal_code = "100-0001"
            programme.secretariat_address = "東京都千代田区千代田1-1"
            programme.secretariat_phone = "03-0000-0000"
            programme.save()

    issue_price_bp = 10_000
    payback_rate_bp = 9_500
    system_fee_yen = 3_000
    terminal_rental_yen = 1_500
    transaction_fee_yen = 5
    issuer_registration_number = "T1234567890123"
    consignor_code = "1234567890"
    consignor_name_kana = "ﾋｶﾘｼｮｳﾃﾝｶﾞｲ"
    bank_code = "0001"
    bank_name = "みずほ銀行"
    branch_code = "001"
    branch_name = "東京営業部"
    account_number = "1234567"


def key(prefix: str = "t") -> str:
    return f"{prefix}-{next(_keys)}"


def earn(card, store, amount_yen: int):
    return points_earn(card=card, store=store, amount_yen=amount_yen, idempotency_key=key("earn"))


def spend(card, store, points: int):
    return points_spend(card=card, store=store, points=points, idempotency_key=key("spend"))


def this_period(settings: BillingSettings) -> tuple[int, int]:
    """The period (year, month) that holds entries made now."""
    return period_containing(timezone.localdate(), closing_day=settings.closing_day)


def after_period(settings: BillingSettings, year: int, month: int) -> datetime.datetime:
    """A moment after the period ended and its grace passed: when a close may run."""
    _start, end = period_bounds(year=year, month=month, closing_day=settings.closing_day)
    return end + datetime.timedelta(hours=1)
