"""The campaign rules as pure functions: does a campaign apply to a purchase, why, and for how much.

The earn service and the forecast both call these, so a forecast is what the
till would have given under the same rules (budget and caps included, applied
in the same order).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign


@dataclass(frozen=True)
class MemberFacts:
    gender: str = ""
    birth_year: int | None = None
    birth_month: int | None = None
    postal_code: str = ""
    registered: bool = False
    # The purchases needed for the member's rank in the programme (0: the lowest rank, or no ranks).
    rank_threshold_yen: int = 0


@dataclass(frozen=True)
class Purchase:
    store_id: int
    store_category: str
    amount_yen: int
    base_points: int
    occurred_at: datetime.datetime
    member: MemberFacts
    # None when nobody asked (no campaign needs it); the service looks it up only then.
    first_at_store: bool | None = None
    item_categories: frozenset[str] = field(default_factory=frozenset)


def _age(member: MemberFacts, day: datetime.date) -> int | None:
    if member.birth_year is None:
        return None
    # Without the day of birth, a member counts as a year older from their birth month on.
    had_birthday = member.birth_month is None or day.month >= member.birth_month
    return day.year - member.birth_year - (0 if had_birthday else 1)


def applies(campaign: Campaign, purchase: Purchase, local: datetime.datetime | None = None) -> bool:
    """Whether every condition of the campaign holds for the purchase.

    `local` is the purchase's time in the current time zone (Asia/Tokyo), when the caller has it already: the
    forecast asks this for a million purchases, and looking the zone up each time was a third of its time.
    """
    if not campaign.starts_at <= purchase.occurred_at < campaign.ends_at:
        return False
    local = local or timezone.localtime(purchase.occurred_at)
    if campaign.weekdays and local.weekday() not in campaign.weekdays:
        return False
    if campaign.hour_from is not None and local.hour < campaign.hour_from:
        return False
    if campaign.hour_to is not None and local.hour >= campaign.hour_to:
        return False
    if not at_store(campaign, purchase.store_id, purchase.store_category):
        return False
    member = purchase.member
    if campaign.genders and member.gender not in campaign.genders:
        return False
    if campaign.age_min is not None or campaign.age_max is not None:
        age = _age(member, local.date())
        if age is None or (campaign.age_min is not None and age < campaign.age_min):
            return False
        if campaign.age_max is not None and age > campaign.age_max:
            return False
    if campaign.postal_prefixes and not any(
        member.postal_code.replace("-", "").startswith(prefix) for prefix in campaign.postal_prefixes
    ):
        return False
    if campaign.registered == Campaign.Registered.REGISTERED and not member.registered:
        return False
    if campaign.registered == Campaign.Registered.UNREGISTERED and member.registered:
        return False
    if campaign.birthday_month and member.birth_month != local.month:
        return False
    if campaign.min_rank_id is not None and member.rank_threshold_yen < campaign.min_rank.threshold_yen:
        return False
    if purchase.amount_yen < campaign.min_amount_yen:
        return False
    if campaign.first_purchase_at_store and not purchase.first_at_store:
        return False
    return not campaign.item_categories or bool(purchase.item_categories & set(campaign.item_categories))


def why_it_applies(campaign: Campaign, purchase: Purchase) -> str | None:
    """The reasons, as an operator reads them, if every condition holds (`applies`); None if one does not."""
    local = timezone.localtime(purchase.occurred_at)
    if not applies(campaign, purchase, local):
        return None
    reasons = []
    if campaign.genders:
        reasons.append(_("gender"))
    if campaign.age_min is not None or campaign.age_max is not None:
        reasons.append(_("age %(age)s") % {"age": _age(purchase.member, local.date())})
    if campaign.postal_prefixes:
        reasons.append(_("postal code"))
    if campaign.birthday_month:
        reasons.append(_("birthday month"))
    if campaign.min_rank_id is not None:
        reasons.append(_("%(rank)s or above") % {"rank": campaign.min_rank.name})
    if campaign.min_amount_yen:
        reasons.append(_("purchase of %(yen)s yen or more") % {"yen": f"{campaign.min_amount_yen:,}"})
    if campaign.first_purchase_at_store:
        reasons.append(_("first purchase at the store"))
    if campaign.item_categories:
        bought = sorted(purchase.item_categories & set(campaign.item_categories))
        reasons.append(_("items: %(categories)s") % {"categories": ", ".join(bought)})
    when = _("%(day)s %(hour)s:00") % {"day": local.strftime("%Y-%m-%d"), "hour": local.hour}
    return "; ".join([when, *reasons])


def bonus_wanted(campaign: Campaign, purchase: Purchase) -> int:
    """The bonus before budget and caps: a multiple of the base points (rounded down) or a fixed amount."""
    if campaign.kind == Campaign.Kind.FIXED:
        return campaign.fixed_points
    return purchase.base_points * (campaign.multiplier_percent - 100) // 100


def at_store(campaign: Campaign, store_id: int, store_category: str) -> bool:
    """Whether the campaign runs at the store: its stores or categories, less those it excludes."""
    if campaign.store_ids and store_id not in campaign.store_ids:
        return False
    if store_id in campaign.excluded_store_ids:
        return False
    if campaign.categories and store_category not in campaign.categories:
        return False
    return store_category not in campaign.excluded_categories


def needs_first_purchase(campaigns, store_id: int, store_category: str) -> bool:
    """Whether a campaign at this store asks if the purchase is the member's first there (a query to answer)."""
    return any(
        campaign.first_purchase_at_store and at_store(campaign, store_id, store_category) for campaign in campaigns
    )


def capped(campaign: Campaign, wanted: int, *, member_day: int, member_total: int, budget_used: int) -> int:
    """What may be given of `wanted`, given what the member already got today and in all, and the budget."""
    limits = [wanted]
    if campaign.cap_per_member_day is not None:
        limits.append(campaign.cap_per_member_day - member_day)
    if campaign.cap_per_member is not None:
        limits.append(campaign.cap_per_member - member_total)
    if campaign.budget_points is not None:
        limits.append(campaign.budget_points - budget_used)
    return max(0, min(limits))


def in_order(campaigns):
    """Priority order (lower first), ties by age; an exclusive campaign that applies first stands alone."""
    return sorted(campaigns, key=lambda campaign: (campaign.priority, campaign.pk))
