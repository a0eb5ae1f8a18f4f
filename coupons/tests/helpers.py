"""Earnings as the terminal API makes them (through the till), and the coupons they issue."""

import datetime
import itertools

from django.utils import timezone

from till.tests.helpers import till_buy

_keys = itertools.count()


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def earn(card, store, *, at=None, amount=1_000, categories=(), key=None):
    """One earning; returns the posting and the coupons it issued."""
    at = at or timezone.now()
    key = key or f"earn-{next(_keys)}"
    receipt = till_buy(card, store, amount_yen=amount, at=at, key=key, categories=categories)
    return receipt.posting, receipt.coupons


def purchases(card, store, ages_in_days, **kwargs) -> list[list]:
    """Earnings this many days ago, in that order; the coupons each one issued."""
    return [earn(card, store, at=days_ago(age), **kwargs)[1] for age in ages_in_days]
