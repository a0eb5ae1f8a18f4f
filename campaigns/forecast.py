"""What a campaign would have given: replayed alone over its programme's real earnings of the last weeks.

The replay asks the same functions the till asks (`campaigns.rules`), so a
forecast is what the live path would have given under the same conditions,
with the caps and the budget applied in the same order. What the ledger row
and the member's plain columns decide is filtered in SQL beforehand; the
rules still decide every purchase that reaches them.
"""

from __future__ import annotations

import copy
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import rules
from campaigns.models import Campaign
from members.models import Member
from points.models import Entry, Funder
from points.selectors import earn_item_categories, earns_with_categories
from ranks.models import MemberRank
from stores.models import Store

CHUNK_ROWS = 20_000
_ALWAYS = (
    datetime.datetime.min.replace(tzinfo=datetime.UTC),
    datetime.datetime.max.replace(tzinfo=datetime.UTC),
)
_NO_ITEMS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Forecast:
    weeks: int
    # Earnings of the programme recorded in the window: what the campaign was replayed over.
    transactions: int
    # Earnings that would have carried a bonus (after caps and budget), and the members who got one.
    matched: int
    bonus_points: int
    members: int
    by_funder: dict[str, int]
    # 1 point = 1 yen of liability.
    cost_yen: int
    notes: list[str]


def campaign_forecast(*, campaign: Campaign, weeks: int = 4, now: datetime.datetime | None = None) -> Forecast:
    """The campaign replayed alone over the earnings of its programme recorded in the last `weeks` weeks.

    Every condition of the campaign counts except its period and its status:
    the question is "what would it have given over the last N weeks, had it
    been running". Earnings are taken in the order they happened (id breaks
    ties), each against the rules, then against the per-member caps and the
    budget, counted from zero at the start of the window. Member attributes
    are today's, other campaigns (and so exclusivity) are left out, and a
    purchase's item categories are those its terminal sent (kept with the
    earning since receipt coupons count them): a purchase sent without items
    matches no item category, which the notes say.
    """
    now = now or timezone.now()
    since = now - datetime.timedelta(weeks=weeks)
    earns = Entry.objects.filter(
        kind=Entry.Kind.EARN, account__programme_id=campaign.programme_id, recorded_at__gte=since, recorded_at__lt=now
    )
    replay = _Replay(_running_throughout(campaign))
    notes = []
    if campaign.item_categories:
        notes.append(_("Item categories are known only for purchases whose terminal sent their items."))
    replay.run(_candidates(earns, campaign), seen_before=_earned_before(earns, campaign, since))
    if replay.ran_out_on is not None:
        notes.append(_("The budget would have run out on %(day)s.") % {"day": replay.ran_out_on.isoformat()})
    if _asks_about_members(campaign):
        notes.append(_("Member attributes are taken as they are today."))
    by_funder = dict.fromkeys(Funder.values, 0)
    by_funder[campaign.funder] = replay.points
    return Forecast(
        weeks=weeks,
        transactions=earns.count(),
        matched=replay.matched,
        bonus_points=replay.points,
        members=len(replay.member_total),
        by_funder=by_funder,
        cost_yen=replay.points,
        notes=notes,
    )


def _running_throughout(campaign: Campaign) -> Campaign:
    """A copy of the campaign whose period covers every moment: the rules then decide on everything else."""
    running = copy.copy(campaign)
    running.starts_at, running.ends_at = _ALWAYS
    running.status = Campaign.Status.ACTIVE
    return running


def _stores_in_question(campaign: Campaign) -> tuple[list[int] | None, list[int]]:
    """Store ids a purchase must be at (None: any) and must not be at, from the store and category lists."""
    only = set(campaign.store_ids) if campaign.store_ids else None
    excluded = set(campaign.excluded_store_ids)
    if campaign.categories or campaign.excluded_categories:
        by_category = defaultdict(set)
        for store_id, category in Store.objects.values_list("pk", "category"):
            by_category[category].add(store_id)
        if campaign.categories:
            in_categories = set().union(*(by_category[category] for category in campaign.categories))
            only = in_categories if only is None else only & in_categories
        excluded |= set().union(*(by_category[category] for category in campaign.excluded_categories))
    return (None if only is None else sorted(only)), sorted(excluded)


def _at_stores(earns, campaign: Campaign):
    only, excluded = _stores_in_question(campaign)
    if only is not None:
        earns = earns.filter(store_id__in=only)
    if excluded:
        earns = earns.exclude(store_id__in=excluded)
    return earns


def _candidates(earns, campaign: Campaign):
    """The earnings the rules need to see, thinned in SQL by what the row and its member's plain columns decide.

    A first-purchase campaign needs every earning at its stores: one that the
    rules refuse still makes the next purchase there not the first.
    """
    earns = _at_stores(earns, campaign)
    if not campaign.first_purchase_at_store:
        if campaign.min_amount_yen:
            earns = earns.filter(amount_yen__gte=campaign.min_amount_yen)
        if campaign.weekdays:
            # Local time (the current time zone, Asia/Tokyo); ISO weekdays count Monday as 1.
            earns = earns.filter(occurred_at__iso_week_day__in=[day + 1 for day in campaign.weekdays])
        if campaign.hour_from is not None:
            earns = earns.filter(occurred_at__hour__gte=campaign.hour_from)
        if campaign.hour_to is not None:
            earns = earns.filter(occurred_at__hour__lt=campaign.hour_to)
        if campaign.genders:
            earns = earns.filter(account__member__gender__in=campaign.genders)
        if campaign.registered == Campaign.Registered.REGISTERED:
            earns = earns.filter(account__member__status=Member.Status.ACTIVE)
        elif campaign.registered == Campaign.Registered.UNREGISTERED:
            earns = earns.exclude(account__member__status=Member.Status.ACTIVE)
        if campaign.item_categories:
            earns = earns.filter(pk__in=earns_with_categories(campaign.item_categories))
    return earns


def _earned_before(earns, campaign: Campaign, since: datetime.datetime) -> set[tuple[int, int]]:
    """(account, store) pairs with an earning before the window, for a first-purchase campaign (one query)."""
    if not campaign.first_purchase_at_store:
        return set()
    before = Entry.objects.filter(
        kind=Entry.Kind.EARN,
        recorded_at__lt=since,
        account_id__in=earns.values("account_id"),
    )
    return set(_at_stores(before, campaign).values_list("account_id", "store_id").distinct().iterator(CHUNK_ROWS))


def _asks_about_members(campaign: Campaign) -> bool:
    return bool(
        campaign.genders
        or campaign.age_min is not None
        or campaign.age_max is not None
        or campaign.postal_prefixes
        or campaign.registered != Campaign.Registered.ANY
        or campaign.birthday_month
        or campaign.min_rank_id is not None
    )


def _member_facts(candidates, programme_id: int) -> dict[int, rules.MemberFacts]:
    """The plain (never encrypted) attributes of every member with a candidate earning, in one query; with
    their rank in the programme as it is now (the forecast does not replay past ranks)."""
    members = Member.objects.filter(pk__in=candidates.values("account__member_id")).values_list(
        "pk", "gender", "birth_year", "birth_month", "postal_code", "status"
    )
    ranks = dict(
        MemberRank.objects.filter(programme_id=programme_id, member_id__in=candidates.values("account__member_id"))
        .values_list("member_id", "rank__threshold_yen")
        .iterator(CHUNK_ROWS)
    )
    return {
        pk: rules.MemberFacts(
            gender=gender,
            birth_year=birth_year,
            birth_month=birth_month,
            postal_code=postal_code,
            registered=status == Member.Status.ACTIVE,
            rank_threshold_yen=ranks.get(pk, 0),
        )
        for pk, gender, birth_year, birth_month, postal_code, status in members.iterator(CHUNK_ROWS)
    }


def _parse_moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    # PostgreSQL writes the session's offset (UTC); SQLite stores UTC without one.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


class _Replay:
    """In-memory counterparts of what the live path reads under its locks: caps per member and day, per
    member, and the budget used."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        # The day the caps count in, as the live path's timezone.localtime() has it, with the zone looked up once.
        self.zone = timezone.get_current_timezone()
        self.matched = 0
        self.points = 0
        self.member_day: dict[tuple[int, datetime.date], int] = {}
        # Members who got a bonus, and how much in all.
        self.member_total: dict[int, int] = {}
        self.ran_out_on: datetime.date | None = None

    def run(self, candidates, *, seen_before: set[tuple[int, int]]) -> None:
        campaign = self.campaign
        categories = dict(Store.objects.values_list("pk", "category"))
        facts = _member_facts(candidates, campaign.programme_id)
        items = earn_item_categories(candidates, campaign.item_categories) if campaign.item_categories else {}
        nobody = rules.MemberFacts()
        first_purchase = campaign.first_purchase_at_store
        seen = seen_before
        # The moment as text, parsed by datetime.fromisoformat (C): Django's loader for PostgreSQL timestamps
        # is pure Python, about 2 s a million rows.
        rows = (
            candidates.order_by("occurred_at", "pk")
            .annotate(moment=Cast("occurred_at", CharField()))
            .values_list("pk", "account_id", "account__member_id", "store_id", "amount_yen", "points", "moment")
        )
        zone = self.zone
        for pk, account_id, member_id, store_id, amount_yen, points, moment in rows.iterator(CHUNK_ROWS):
            occurred_at = _parse_moment(moment)
            local = occurred_at.astimezone(zone)
            first = None
            if first_purchase:
                first = (account_id, store_id) not in seen
                seen.add((account_id, store_id))
            purchase = rules.Purchase(
                store_id=store_id,
                store_category=categories.get(store_id, ""),
                amount_yen=amount_yen,
                base_points=points,
                occurred_at=occurred_at,
                member=facts.get(member_id, nobody),
                first_at_store=first,
                item_categories=items.get(pk, _NO_ITEMS),
            )
            # The till words why a campaign applied; the forecast only counts, so it asks whether.
            if rules.applies(campaign, purchase, local) and self._give(member_id, purchase, local.date()):
                # The live path stops offering a campaign whose budget is spent.
                break

    def _give(self, member_id: int, purchase: rules.Purchase, day: datetime.date) -> bool:
        """As campaigns.services._give, with counters for the rows it reads; True once the budget is spent.

        `day` is the purchase's local date, the day the caps count in.
        """
        campaign = self.campaign
        wanted = rules.bonus_wanted(campaign, purchase)
        if wanted <= 0:
            return False
        given = rules.capped(
            campaign,
            wanted,
            member_day=self.member_day.get((member_id, day), 0),
            member_total=self.member_total.get(member_id, 0),
            budget_used=self.points,
        )
        if given <= 0:
            return False
        self.matched += 1
        self.points += given
        self.member_day[member_id, day] = self.member_day.get((member_id, day), 0) + given
        self.member_total[member_id] = self.member_total.get(member_id, 0) + given
        if campaign.budget_points is not None and self.points >= campaign.budget_points:
            self.ran_out_on = day
            return True
        return False
