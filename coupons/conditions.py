"""Which coupon templates a purchase meets: the conditions over the member's history.

The history is counted in a fixed number of queries whatever the number of templates (one for the coupons
the member already has, one per kind of condition), so that an earn stays cheap with many templates active.

The count restarts after each coupon: with "5th purchase at the store", the 5th purchase issues one, and the
next one comes with the 10th (if the limit per member allows it). Purchases voided in full do not count.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from coupons import sql
from coupons.models import CouponTemplate

NTH = CouponTemplate.Condition.NTH_PURCHASE_AT_STORE
CATEGORY = CouponTemplate.Condition.CATEGORY_PURCHASES


@dataclass(frozen=True)
class Purchase:
    """The earning at the till, as the conditions read it."""

    earn_id: int
    account_id: int
    member_id: int
    store_id: int
    amount_yen: int
    occurred_at: datetime.datetime
    item_categories: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _Issued:
    count: int = 0
    last: datetime.datetime | None = None
    last_here: datetime.datetime | None = None


def could_meet(template: CouponTemplate, purchase: Purchase) -> bool:
    """Whether the purchase at the till can be the one that meets the condition (no history read)."""
    if purchase.amount_yen < template.min_amount_yen:
        return False
    return template.condition == NTH or template.item_category in purchase.item_categories


def templates_met(templates: list[CouponTemplate], purchase: Purchase) -> list[CouponTemplate]:
    """The templates whose condition this purchase meets and whose limit per member is not reached."""
    candidates = [template for template in templates if could_meet(template, purchase)]
    if not candidates:
        return []
    issued = _issued_so_far(candidates, purchase)
    candidates = [
        template
        for template in candidates
        if template.limit_per_member is None or issued[template.pk].count < template.limit_per_member
    ]
    nth = [t for t in candidates if t.condition == NTH]
    by_category = [t for t in candidates if t.condition == CATEGORY]
    counted = {
        **_count(
            nth,
            purchase,
            issued,
            lambda since: sql.earns_at_store(
                account_id=purchase.account_id, store_id=purchase.store_id, since=since, until=purchase.occurred_at
            ),
        ),
        **_count(
            by_category,
            purchase,
            issued,
            lambda since: sql.earns_in_categories(
                account_id=purchase.account_id,
                categories=sorted({t.item_category for t in by_category}),
                since=since,
                until=purchase.occurred_at,
            ),
        ),
    }
    return [template for template in candidates if counted.get(template.pk, 0) >= template.purchases_needed]


def _issued_so_far(templates: list[CouponTemplate], purchase: Purchase) -> dict[int, _Issued]:
    """How many coupons of each template the member has, and when the last one was issued (anywhere, and at
    this store): read under the account's lock, so two earnings cannot both pass the limit."""
    found = sql.issued_so_far(
        template_ids=[t.pk for t in templates], member_id=purchase.member_id, store_id=purchase.store_id
    )
    return {template.pk: _Issued(*found[template.pk]) if template.pk in found else _Issued() for template in templates}


def _counts(template: CouponTemplate, purchase: Purchase, issued: _Issued, occurred_at: datetime.datetime, amount: int):
    """Whether one purchase of the history counts for the template: within its days, after its last coupon,
    large enough."""
    if template.within_days is not None and occurred_at < purchase.occurred_at - datetime.timedelta(
        days=template.within_days
    ):
        return False
    restart = issued.last_here if template.condition == NTH else issued.last
    if restart is not None and occurred_at <= restart:
        return False
    return amount >= template.min_amount_yen


def _since(templates, purchase: Purchase, issued: dict[int, _Issued]) -> datetime.datetime | None:
    """The earliest purchase any of the templates can count (None: the whole history)."""
    earliest = []
    for template in templates:
        starts = []
        if template.within_days is not None:
            starts.append(purchase.occurred_at - datetime.timedelta(days=template.within_days))
        restart = issued[template.pk].last_here if template.condition == NTH else issued[template.pk].last
        if restart is not None:
            starts.append(restart)
        if not starts:
            return None
        earliest.append(max(starts))
    return min(earliest)


def _count(templates, purchase: Purchase, issued: dict[int, _Issued], history) -> dict[int, int]:
    """For each template, how many purchases of `history(since)` count: the history read once (only as far
    back as some template looks), counted here."""
    if not templates:
        return {}
    rows = history(_since(templates, purchase, issued))
    return {
        t.pk: sum(
            1
            for occurred_at, yen, kind in rows
            if (t.condition == NTH or kind == t.item_category)
            and _counts(t, purchase, issued[t.pk], occurred_at, yen or 0)
        )
        for t in templates
    }
