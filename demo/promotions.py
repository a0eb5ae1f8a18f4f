"""The demo street's promotions and what members did with them, so that no screen is empty on the first
visit: a running campaign, coupon templates with coupons issued, a rally with stamps and a goal reached,
exchanges handed over and one reserved. Everything goes through the services (and purchases through the
till), as a secretariat and the tills would make it."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_save
from coupons.models import Coupon, CouponTemplate
from coupons.services import coupon_template_save
from exchange.models import Counter, Exchange, Item
from exchange.services import exchange_create
from members.models import Card, Member
from points.models import Account, Funder, Programme
from points.services import points_adjust
from rallies.models import Rally, RallyGoal, Stamp
from rallies.services import rally_goals_save, rally_save
from stores.models import Store, Terminal
from till.services import till_earn


@dataclass
class PromotionsResult:
    campaigns: int
    coupon_templates: int
    coupons: int
    stamps: int
    exchanges: int
    reservations: int


def demo_promotions(*, programme: Programme, purchases: int = 120) -> PromotionsResult:
    """Promotions running from a month ago to two months ahead, then `purchases` purchases at the demo
    stores' tills by registered members, then exchanges at the desk. Run once: a programme that has
    campaigns already is left as it is."""
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if not Campaign.objects.filter(programme=programme).exists():
        _promotions(programme, staff)
        _purchases(programme, purchases)
        _exchanges(programme, staff)
    return PromotionsResult(
        campaigns=Campaign.objects.filter(programme=programme, status=Campaign.Status.ACTIVE).count(),
        coupon_templates=CouponTemplate.objects.filter(programme=programme).count(),
        coupons=Coupon.objects.filter(template__programme=programme).count(),
        stamps=Stamp.objects.filter(rally__programme=programme).count(),
        exchanges=Exchange.objects.filter(programme=programme).count(),
        reservations=Exchange.objects.filter(programme=programme, status=Exchange.Status.RESERVED).count(),
    )


def _promotions(programme: Programme, staff) -> None:
    now = timezone.now()
    rally_stores = list(Store.objects.filter(programmes=programme).order_by("code").values_list("pk", flat=True)[:8])
    starts, ends = now - datetime.timedelta(days=30), now + datetime.timedelta(days=60)
    active = Campaign.Status.ACTIVE
    campaign_save(
        campaign=Campaign(
            programme=programme,
            name="平日ポイント2倍",
            status=active,
            kind=Campaign.Kind.MULTIPLIER,
            multiplier_percent=200,
            starts_at=starts,
            ends_at=ends,
            weekdays=[0, 1, 2, 3, 4],
            funder=Funder.SECRETARIAT,
            budget_points=500_000,
        ),
        staff=staff,
    )
    campaign_save(
        campaign=Campaign(
            programme=programme,
            name="3,000円以上で50ポイント",
            status=active,
            kind=Campaign.Kind.FIXED,
            fixed_points=50,
            min_amount_yen=3_000,
            starts_at=starts,
            ends_at=ends,
            funder=Funder.STORE,
        ),
        staff=staff,
    )
    for name, needed, benefit in (
        ("3回目のご来店で100円引き", 3, {"benefit": CouponTemplate.Benefit.DISCOUNT_YEN, "discount_yen": 100}),
        ("2回目のご来店で30ポイント", 2, {"benefit": CouponTemplate.Benefit.BONUS_POINTS, "bonus_points": 30}),
    ):
        coupon_template_save(
            template=CouponTemplate(
                programme=programme,
                name=name,
                status=CouponTemplate.Status.ACTIVE,
                condition=CouponTemplate.Condition.NTH_PURCHASE_AT_STORE,
                purchases_needed=needed,
                within_days=60,
                starts_at=starts,
                ends_at=ends,
                valid_days=30,
                **benefit,
            ),
            staff=staff,
        )
    rally = rally_save(
        rally=Rally(
            programme=programme,
            name="商店街スタンプラリー",
            status=Rally.Status.ACTIVE,
            starts_at=starts,
            ends_at=ends,
            stamp_per=Rally.StampPer.STORE_DAY,
            store_ids=rally_stores,
        ),
        staff=staff,
    )
    rally_goals_save(
        rally=rally,
        goals=[
            RallyGoal(name="3店舗達成", position=1, target=3, reward=RallyGoal.Reward.BONUS, bonus_points=100),
            RallyGoal(name="5店舗で抽選へ", position=2, target=5, reward=RallyGoal.Reward.DRAW),
        ],
        deleted=[],
        staff=staff,
    )


def _purchases(programme: Programme, purchases: int) -> None:
    """Registered members shop at a few stores each, today, through the till: coupons are issued, stamps
    collected, the campaigns give their bonuses."""
    terminals = list(
        Terminal.objects.filter(status=Terminal.Status.ACTIVE, store__programmes=programme)
        .select_related("store")
        .order_by("store__code")[:6]
    )
    cards = list(
        Card.objects.filter(status=Card.Status.ACTIVE, member__status=Member.Status.ACTIVE).order_by("pk")[:20]
    )
    if not terminals or not cards:
        return
    amounts = itertools.cycle([1_280, 3_500, 860, 5_400, 2_200, 3_100])
    now = timezone.now()
    for number in range(purchases):
        card = cards[number % len(cards)]
        terminal = terminals[(number // len(cards) + number) % len(terminals)]
        till_earn(
            terminal=terminal,
            card_type=card.card_type,
            number=card.number,
            amount_yen=next(amounts),
            idempotency_key=f"demo-promotions-{programme.pk}-{number}",
            occurred_at=now - datetime.timedelta(minutes=purchases - number),
        )


def _exchanges(programme: Programme, staff) -> None:
    """Three members exchange points at the desk (the demo's staff may override the window); a fourth
    reserves by phone."""
    counter = Counter.objects.filter(programme=programme, is_active=True).order_by("position").first()
    item = Item.objects.filter(programme=programme, is_active=True).order_by("price_points").first()
    if counter is None or item is None:
        return
    accounts = Account.objects.filter(programme=programme, member__status="active")
    for number, account in enumerate(accounts.select_related("member").order_by("-balance", "pk")[:4]):
        if account.balance < item.price_points:
            # A short demo street (few members, few months) may leave nobody rich enough: the secretariat tops
            # the member up, audited like any adjustment.
            points_adjust(
                member=account.member,
                programme=programme,
                points=item.price_points - account.balance,
                reason="デモデータ: 交換のためのポイント",
                staff=staff,
                idempotency_key=f"demo-exchange-topup-{programme.pk}-{number}",
            )
        exchange_create(
            member=account.member,
            counter=counter,
            lines=[(item, 1)],
            staff=staff,
            idempotency_key=f"demo-exchange-{programme.pk}-{number}",
            override_reason="デモデータ",
            reserve=number == 3,
        )
