"""Campaigns, coupons and rallies: what each cost and who paid (the bonus points by funder, net of those taken
back with their purchase; a coupon's discounts, which the store honours), how many members took part, and
their purchases before and during it.

The participants are the members with a campaign's bonus, a coupon redeemed, or a live rally stamp (at the
stores chosen; of the attributes chosen, as they were when the promotion started). Their purchases come
from the visits summary: during the promotion (up to today) and over as many days just before it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.charts import Chart, Series
from analytics.models import Visit
from analytics.selectors.filters import ReportFilter, selected_store_ids
from campaigns.models import Campaign, CampaignApplication
from common.privacy import masked
from coupons.models import Coupon, CouponTemplate
from members.models import Member
from points.models import Entry, Funder
from rallies.models import GoalReached, Rally, Stamp
from ranks.models import RankRecord
from stores.selectors import local_midnight

CAMPAIGN, COUPON, RALLY = "campaign", "coupon", "rally"


@dataclass
class PromotionLine:
    kind: str
    kind_label: str
    name: str
    programme_id: int
    first_day: datetime.date
    last_day: datetime.date
    participants: object
    store_points: object
    secretariat_points: object
    discount_yen: object
    purchases_before_yen: object
    purchases_during_yen: object
    per_member_before_yen: object
    per_member_during_yen: object
    change: object  # during against before, percent
    members: int


@dataclass
class PromotionsReport:
    filter: ReportFilter
    lines: list[PromotionLine]
    chart: Chart


def age_q(band: int, day: datetime.date, prefix: str = "") -> Q:
    """Members in the age band on the day, by birth year and month (an unknown month taken as January)."""
    lower, upper = (0, 20) if band == 10 else (band, 200 if band == 70 else band + 10)

    def born_by(age: int) -> Q:
        # Aged `age` or more on the day: born in a year before day.year - age, or in that year by day's month.
        year = day.year - age
        month = Q(**{f"{prefix}birth_month__lte": day.month}) | Q(**{f"{prefix}birth_month__isnull": True})
        return Q(**{f"{prefix}birth_year__lt": year}) | (Q(**{f"{prefix}birth_year": year}) & month)

    return Q(**{f"{prefix}birth_year__isnull": False}) & born_by(lower) & ~born_by(upper)


def _members(report: ReportFilter, programme_id: int, day: datetime.date) -> QuerySet | None:
    """The members of the attributes chosen, as they were on the day; None when none is chosen."""
    if not report.by_members:
        return None
    members = Member.objects.all()
    if report.gender is not None:
        members = members.filter(gender=report.gender)
    if report.postal_prefix:
        members = members.filter(postal_code__startswith=report.postal_prefix)
    if report.age_band is not None:
        members = members.filter(age_q(report.age_band, day))
    if report.rank_id is not None:
        rank = (
            RankRecord.objects.filter(member=OuterRef("pk"), programme_id=programme_id, effective_on__lte=day)
            .order_by("-effective_on", "-pk")
            .values("rank_id")[:1]
        )
        members = members.annotate(rank_then=Subquery(rank)).filter(rank_then=report.rank_id)
    return members.values("pk")


def _percent_change(before, during) -> Decimal | None:
    if not before:
        return None
    return (Decimal(100 * (during - before)) / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _cost(bonus_ids: QuerySet) -> dict[str, int]:
    """Bonus points by funder, less those taken back (reversing entries of the bonuses)."""
    given = Entry.objects.filter(pk__in=bonus_ids)
    cost = {row["funder"]: row["points"] for row in given.values("funder").annotate(points=Sum("points")).order_by()}
    taken_back = Entry.objects.filter(reverses__in=bonus_ids).values("reverses__funder").annotate(points=Sum("points"))
    for row in taken_back.order_by():
        cost[row["reverses__funder"]] = cost.get(row["reverses__funder"], 0) + row["points"]
    return cost


def _purchases(programme_id: int, participants: QuerySet, first: datetime.date, last: datetime.date) -> dict:
    """The participants' purchases during [first, last] and over as many days before."""
    length = (last - first).days + 1
    before = first - datetime.timedelta(days=length)
    return Visit.objects.filter(
        programme_id=programme_id, place="", member_id__in=participants, day__gte=before, day__lte=last
    ).aggregate(
        before=Sum("amount_yen", filter=Q(day__lt=first)),
        during=Sum("amount_yen", filter=Q(day__gte=first)),
        visits_before=Count("pk", filter=Q(day__lt=first)),
    )


def _line(
    *, kind: str, label: str, promotion, participants: QuerySet, bonus_ids, discount_yen: int, today: datetime.date
) -> PromotionLine:
    first = timezone.localtime(promotion.starts_at).date()
    last = min(timezone.localtime(promotion.ends_at - datetime.timedelta(microseconds=1)).date(), today)
    members = participants.values("member_id").distinct()
    count = members.count()
    cost = _cost(bonus_ids)
    bought = _purchases(promotion.programme_id, members, first, last) if last >= first else {}
    before, during = bought.get("before") or 0, bought.get("during") or 0
    per_before = before // count if count else 0
    per_during = during // count if count else 0
    return PromotionLine(
        kind=kind,
        kind_label=label,
        name=promotion.name,
        programme_id=promotion.programme_id,
        first_day=first,
        last_day=timezone.localtime(promotion.ends_at - datetime.timedelta(microseconds=1)).date(),
        participants=masked(count, count),
        store_points=masked(cost.get(Funder.STORE, 0), count),
        secretariat_points=masked(cost.get(Funder.SECRETARIAT, 0), count),
        discount_yen=masked(discount_yen, count),
        purchases_before_yen=masked(before, count),
        purchases_during_yen=masked(during, count),
        per_member_before_yen=masked(per_before, count),
        per_member_during_yen=masked(per_during, count),
        change=masked(_percent_change(per_before, per_during), count),
        members=count,
    )


def promotions_report(report: ReportFilter, *, today: datetime.date | None = None) -> PromotionsReport:
    """Every campaign, coupon and rally that ran during the period (drafts apart), over its whole run."""
    today = today or timezone.localdate()
    start, end = local_midnight(report.first), local_midnight(report.last + datetime.timedelta(days=1))
    overlapping = Q(starts_at__lt=end, ends_at__gt=start) & report.programme_q()
    stores = selected_store_ids(report)
    lines = []

    def narrowed(queryset: QuerySet, store_field: str, programme_id: int, day: datetime.date) -> QuerySet:
        if stores is not None:
            queryset = queryset.filter(**{f"{store_field}__in": stores})
        members = _members(report, programme_id, day)
        return queryset if members is None else queryset.filter(member_id__in=members)

    campaigns = Campaign.objects.filter(overlapping).exclude(status=Campaign.Status.DRAFT)
    for campaign in campaigns.order_by("starts_at", "pk"):
        day = timezone.localtime(campaign.starts_at).date()
        applications = narrowed(
            CampaignApplication.objects.filter(campaign=campaign), "earn__store_id", campaign.programme_id, day
        )
        lines.append(
            _line(
                kind=CAMPAIGN,
                label=_("campaign"),
                promotion=campaign,
                participants=applications,
                bonus_ids=applications.values("bonus_id"),
                discount_yen=0,
                today=today,
            )
        )
    templates = CouponTemplate.objects.filter(overlapping).exclude(status=CouponTemplate.Status.DRAFT)
    for template in templates.order_by("starts_at", "pk"):
        day = timezone.localtime(template.starts_at).date()
        redeemed = narrowed(
            Coupon.objects.filter(template=template, status=Coupon.Status.REDEEMED),
            "redeemed_at_store_id",
            template.programme_id,
            day,
        )
        lines.append(
            _line(
                kind=COUPON,
                label=_("coupon"),
                promotion=template,
                participants=redeemed,
                bonus_ids=redeemed.filter(bonus__isnull=False).values("bonus_id"),
                discount_yen=redeemed.count() * template.discount_yen,
                today=today,
            )
        )
    for rally in Rally.objects.filter(overlapping).exclude(status=Rally.Status.DRAFT).order_by("starts_at", "pk"):
        day = timezone.localtime(rally.starts_at).date()
        live = Stamp.objects.filter(rally=rally, voided_at__isnull=True)
        stamps = narrowed(live, "store_id", rally.programme_id, day)
        rewarded = GoalReached.objects.filter(goal__rally=rally, bonus__isnull=False)
        goals = narrowed(rewarded, "earn__store_id", rally.programme_id, day)
        lines.append(
            _line(
                kind=RALLY,
                label=_("rally"),
                promotion=rally,
                participants=stamps,
                bonus_ids=goals.values("bonus_id"),
                discount_yen=0,
                today=today,
            )
        )
    return PromotionsReport(filter=report, lines=lines, chart=_chart(lines))


def _chart(lines: list[PromotionLine]) -> Chart:
    return Chart(
        id="promotions-chart",
        title=_("Purchases per participant, before and during"),
        labels=[line.name[:14] for line in lines],
        series=[
            Series(_("before"), [line.per_member_before_yen for line in lines]),
            Series(_("during"), [line.per_member_during_yen for line in lines]),
        ],
        unit=_("yen"),
    )
