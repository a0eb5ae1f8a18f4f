"""The demo's second programme: a department store's own card at three of the street's stores, beside the
street's shared programme. It has ranks (with last month's purchases already counted), a campaign whose
points only the company's stores take, and points members bought; everything through the services and the
till, as the secretariat and the tills would make it."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_save
from members.models import Card, Member
from points.models import Funder, Participation, Programme
from points.services import points_sell_at_desk
from ranks.models import MemberRank, Rank, RankPolicy
from ranks.services import ranks_evaluate
from stores.models import Terminal
from till.services import till_earn

CODE = "TOKO"
NAME = "東光百貨店カード"
LADDER = (
    ("レギュラー", 0, 100, ""),
    ("シルバー", 20_000, 150, "お買上げポイント1.5倍"),
    ("ゴールド", 60_000, 200, "お買上げポイント2倍、駐車場2時間無料"),
)


@dataclass
class CompanyResult:
    programme: Programme
    stores: int
    ranked: dict[str, int]


def demo_company(*, street: Programme) -> CompanyResult:
    """Once: the company's programme at the street's first three stores (the first its primary one), its
    ladder, a company-only campaign, purchases over the last month at its tills, the night's rank
    evaluation, and a few points sold at the desk."""
    programme = Programme.objects.filter(code=CODE).first()
    if programme is None:
        programme = _programme(street)
    ranked = dict(
        MemberRank.objects.filter(programme=programme)
        .values_list("rank__name")
        .annotate(n=Count("pk"))
        .order_by("rank__threshold_yen")
    )
    return CompanyResult(programme, Participation.objects.filter(programme=programme).count(), ranked)


def _programme(street: Programme) -> Programme:
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    programme = Programme.objects.create(
        code=CODE,
        name=NAME,
        expiry_months=12,
        sells_points=True,
        secretariat_name="株式会社東光百貨店 カード事務局",
    )
    terminals = list(
        Terminal.objects.filter(status=Terminal.Status.ACTIVE, store__programmes=street)
        .select_related("store")
        .order_by("store__code")
    )
    stores = list({terminal.store.pk: terminal.store for terminal in terminals}.values())[:3]
    for number, store in enumerate(stores):
        Participation.objects.create(programme=programme, store=store, earn_rate_bp=200, is_primary=number == 0)
    RankPolicy.objects.create(programme=programme, calendar_year=True, last_months=3, downgrade_grace_days=30)
    for name, threshold, percent, benefits in LADDER:
        Rank.objects.create(
            programme=programme, name=name, threshold_yen=threshold, multiplier_percent=percent, benefits=benefits
        )
    now = timezone.now()
    campaign_save(
        campaign=Campaign(
            programme=programme,
            name="百貨店の日 100ポイント（当社店舗でのみ利用可）",
            status=Campaign.Status.ACTIVE,
            kind=Campaign.Kind.FIXED,
            fixed_points=100,
            min_amount_yen=5_000,
            starts_at=now - datetime.timedelta(days=35),
            ends_at=now + datetime.timedelta(days=60),
            usable_only_at=stores[0].merchant,
            funder=Funder.STORE,
        ),
        staff=staff,
    )
    _purchases(programme, [t for t in terminals if t.store in stores])
    ranks_evaluate(programme=programme, day=timezone.localdate())
    cards = _cards()[:3]
    for number, card in enumerate(cards):
        points_sell_at_desk(
            member=card.member,
            programme=programme,
            amount_yen=10_000,
            staff=staff,
            idempotency_key=f"demo-sale-{number}",
        )
    return programme


def _cards() -> list[Card]:
    return list(Card.objects.filter(status=Card.Status.ACTIVE, member__status=Member.Status.ACTIVE).order_by("pk")[:15])


def _purchases(programme: Programme, terminals: list[Terminal]) -> None:
    """Registered members shop at the company's stores over the last six days (within what the street's
    programme accepts from a till; most before today, so tonight's ranks count them): some often and dear
    enough to reach Silver or Gold."""
    cards = _cards()
    if not terminals or not cards:
        return
    amounts = itertools.cycle([4_800, 12_000, 2_600, 7_500, 18_000, 3_300])
    start = timezone.now() - datetime.timedelta(days=6)
    for number in range(90):
        card = cards[number % 5] if number % 3 else cards[number % len(cards)]
        till_earn(
            terminal=terminals[number % len(terminals)],
            card_type=card.card_type,
            number=card.number,
            amount_yen=next(amounts),
            idempotency_key=f"demo-company-{number}",
            occurred_at=start + datetime.timedelta(minutes=90 * number),
        )
