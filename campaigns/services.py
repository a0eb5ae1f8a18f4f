"""Every write of the campaigns app: an earning's campaign bonuses (the till calls it), and the operators' changes."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import PromotionSummaries, audited_promotion_save
from campaigns import rules, sql
from campaigns.models import Campaign, CampaignApplication
from common.snapshots import RunningRows
from members.models import Member
from points.models import Entry, Programme
from points.services import BonusGrant, Posting, points_bonuses
from ranks.models import Rank
from stores.models import Store

MEMBER_FACTS = ("gender", "birth_year", "birth_month", "postal_code", "status")


_RUNNING = RunningRows(
    model=Campaign,
    active=lambda programme_id: Campaign.objects.filter(
        programme_id=programme_id, status=Campaign.Status.ACTIVE
    ).select_related("min_rank"),
    arrange=rules.in_order,
)


def campaigns_active(*, programme: Programme, at: datetime.datetime) -> list[Campaign]:
    """The programme's running campaigns at a moment, in the order they are tried (one small query while
    the campaigns are unchanged). A campaign whose budget ran out may still be here: `campaigns_after_earn`
    reads budgets under their lock."""
    return _RUNNING.running(programme.pk, at)


def _member_facts(posting: Posting, rank: Rank | None = None) -> rules.MemberFacts:
    """The member as the earning locked it with the card (its plain columns), else read; with their rank in
    the programme as the till gave the earning at."""
    member = posting.card.member if posting.card is not None else None
    if member is None or member.pk != posting.account.member_id:
        member = Member.objects.only(*MEMBER_FACTS).get(pk=posting.account.member_id)
    return rules.MemberFacts(
        gender=member.gender,
        birth_year=member.birth_year,
        birth_month=member.birth_month,
        postal_code=member.postal_code,
        registered=member.status == Member.Status.ACTIVE,
        rank_threshold_yen=rank.threshold_yen if rank is not None else 0,
    )


def _first_at_store(earn: Entry) -> bool:
    return not sql.earned_here_before(earn=earn)


def _already_given(campaigns: list[Campaign], member_id: int, day: datetime.date) -> dict[int, tuple[int, int]]:
    """Points each capped campaign already gave the member today and in all (read under the account's lock;
    one query)."""
    capped = [c.pk for c in campaigns if c.cap_per_member_day is not None or c.cap_per_member is not None]
    if not capped:
        return {}
    return sql.given_to_member(campaign_ids=capped, member_id=member_id, day=day)


def _budgets_used(campaigns: list[Campaign]) -> dict[int, int]:
    """The budget used of each budgeted campaign, its row locked until the earning commits: concurrent
    earnings take from a budget one after the other, never over it. Locked in primary-key order, in one
    query, so that two earnings never wait on each other crosswise."""
    budgeted = [c.pk for c in campaigns if c.budget_points is not None]
    if not budgeted:
        return {}
    return sql.budgets_lock(campaign_ids=budgeted)


def _give(posting: Posting, purchase: rules.Purchase, applying: list[tuple[Campaign, str]], key: str) -> None:
    """Give what the caps and the budgets allow of each applying campaign's bonus, in their order; an
    exclusive campaign gives only when none before it gave, and then stands alone."""
    earn = posting.entries[0]
    member_id = posting.account.member_id
    day = timezone.localtime(purchase.occurred_at).date()
    campaigns = [campaign for campaign, _why in applying]
    given_before = _already_given(campaigns, member_id, day)
    budgets = _budgets_used(campaigns)
    grants, applications = [], []
    for campaign, why in applying:
        if campaign.exclusive and grants:
            continue
        wanted = rules.bonus_wanted(campaign, purchase)
        if wanted <= 0:
            continue
        today, total = given_before.get(campaign.pk, (0, 0))
        used = budgets.get(campaign.pk, 0)
        points = rules.capped(campaign, wanted, member_day=today, member_total=total, budget_used=used)
        if points <= 0:
            continue
        grants.append(
            BonusGrant(
                points=points,
                funder=campaign.funder,
                reason=campaign.name,
                idempotency_key=f"{key}:c{campaign.pk}",
                merchant_id=campaign.usable_only_at_id,
            )
        )
        applications.append(
            CampaignApplication(
                campaign=campaign,
                earn=earn,
                account=posting.account,
                member_id=member_id,
                day=day,
                points=points,
                reason=why[:300],
            )
        )
        if campaign.pk in budgets:
            sql.budget_use(campaign=campaign, used=used + points)
        if campaign.exclusive:
            break
    for application, bonus in zip(applications, points_bonuses(earn=posting, grants=grants), strict=True):
        application.bonus = bonus
    sql.applications_insert(applications)


def campaigns_after_earn(
    *,
    posting: Posting,
    store: Store,
    amount_yen: int,
    occurred_at: datetime.datetime,
    programme: Programme,
    item_categories: frozenset[str] = frozenset(),
    rank: Rank | None = None,
) -> None:
    """Add the bonuses of every campaign that applies to an earning (points_earn), in its transaction;
    `rank`: the member's rank the earning was given at, for the campaigns' rank condition.

    Call it last before the transaction commits: a campaign with a budget is locked from here to the
    commit, and every earning that campaign applies to waits for it. A replayed earning gets nothing here
    (its bonuses are already in the posting).
    """
    if posting.replayed or not posting.entries:
        return
    campaigns = campaigns_active(programme=programme, at=occurred_at)
    if not campaigns:
        return
    earn = posting.entries[0]
    purchase = rules.Purchase(
        store_id=store.pk,
        store_category=store.category,
        amount_yen=amount_yen,
        base_points=earn.points,
        occurred_at=occurred_at,
        member=_member_facts(posting, rank),
        first_at_store=(
            _first_at_store(earn) if rules.needs_first_purchase(campaigns, store.pk, store.category) else None
        ),
        item_categories=frozenset(item_categories),
    )
    local = timezone.localtime(occurred_at)
    # Whether each applies, asked cheaply of all; why, worded only for those that do.
    applying = [
        (campaign, rules.why_it_applies(campaign, purchase))
        for campaign in campaigns
        if rules.applies(campaign, purchase, local)
    ]
    if applying:
        _give(posting, purchase, applying, earn.idempotency_key)


# --- the operators' changes -----------------------------------------------------------------


CAMPAIGN_SUMMARIES = PromotionSummaries(
    created=gettext_noop("Created a campaign"),
    activated=gettext_noop("Activated a campaign"),
    changed_running=gettext_noop("Changed a running campaign"),
    changed=gettext_noop("Changed a campaign"),
)


def campaign_save(*, campaign: Campaign, staff, changed: list[str] | None = None) -> Campaign:
    """Create or change a campaign; a change to a running one, or its activation, goes to the audit trail."""
    return audited_promotion_save(campaign, staff=staff, changed=changed, summaries=CAMPAIGN_SUMMARIES)


def campaign_set_status(*, campaign: Campaign, status: str, staff) -> Campaign:
    campaign.status = status
    return campaign_save(campaign=campaign, staff=staff, changed=["status"])
