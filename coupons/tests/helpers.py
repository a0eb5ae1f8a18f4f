"""Earnings as the terminal API makes them once coupons are wired in: campaigns, then coupons, in one
transaction."""

import datetime
import itertools

from django.db import transaction
from django.utils import timezone

from campaigns.services import campaigns_earn
from coupons.services import coupons_after_earn

_keys = itertools.count()


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def earn(card, store, *, at=None, amount=1_000, categories=(), key=None):
    """One earning; returns the posting and the coupons it issued."""
    at = at or timezone.now()
    key = key or f"earn-{next(_keys)}"
    with transaction.atomic():
        posting = campaigns_earn(
            card=card,
            store=store,
            amount_yen=amount,
            idempotency_key=key,
            occurred_at=at,
            item_categories=frozenset(categories),
        )
        coupons = coupons_after_earn(
            posting=posting, store=store, occurred_at=at, item_categories=frozenset(categories)
        )
    return posting, coupons


def purchases(card, store, ages_in_days, **kwargs) -> list[list]:
    """Earnings this many days ago, in that order; the coupons each one issued."""
    return [earn(card, store, at=days_ago(age), **kwargs)[1] for age in ages_in_days]
