"""Every write of the campaigns app: the earning with its campaign bonuses, and the operators' changes."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from campaigns import rules
from campaigns.models import Campaign, CampaignApplication
from members.models import Card, Member
from points.models import Entry, Programme
from points.services import Posting, points_bonus, points_earn, programme_for_store
from stores.models import Store

MEMBER_FACTS = ("gender", "birth_year", "birth_month", "postal_code", "status")


def campaigns_active(*, programme: Programme, at: datetime.datetime) -> list[Campaign]:
    """The programme's running campaigns at a moment, in the order they are tried (one query)."""
    found = Campaign.objects.filter(
        programme=programme, status=Campaign.Status.ACTIVE, starts_at__lte=at, ends_at__gt=at
    ).filter(Q(budget_points__isnull=True) | Q(budget_used__lt=F("budget_points")))
    return rules.in_order(found)


def _member_facts(member_id: int) -> rules.MemberFacts:
    member = Member.objects.only(*MEMBER_FACTS).get(pk=member_id)
    return rules.MemberFacts(
        gender=member.gender,
        birth_year=member.birth_year,
        birth_month=member.birth_month,
        postal_code=member.postal_code,
        registered=member.status == Member.Status.ACTIVE,
    )


def _first_at_store(earn: Entry) -> bool:
    return not (
        Entry.objects.filter(account_id=earn.account_id, store_id=earn.store_id, kind=Entry.Kind.EARN)
        .exclude(pk=earn.pk)
        .exists()
    )


def _already_given(campaign: Campaign, member_id: int, day: datetime.date) -> tuple[int, int]:
    """Points this campaign already gave the member today and in all (read under the account's lock)."""
    if campaign.cap_per_member_day is None and campaign.cap_per_member is None:
        return 0, 0
    given = CampaignApplication.objects.filter(campaign=campaign, member_id=member_id).aggregate(
        total=Sum("points"), today=Sum("points", filter=Q(day=day))
    )
    return given["today"] or 0, given["total"] or 0


def _give(campaign: Campaign, posting: Posting, purchase: rules.Purchase, why: str, key: str) -> int:
    """Give what the caps and the budget allow of the campaign's bonus; returns the points given."""
    earn = posting.entries[0]
    member_id = posting.account.member_id
    day = timezone.localtime(purchase.occurred_at).date()
    wanted = rules.bonus_wanted(campaign, purchase)
    if wanted <= 0:
        return 0
    if campaign.budget_points is not None:
        # The row lock makes concurrent earnings take from the budget one after the other: never over it.
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    today, total = _already_given(campaign, member_id, day)
    points = rules.capped(campaign, wanted, member_day=today, member_total=total, budget_used=campaign.budget_used)
    if points <= 0:
        return 0
    bonus = points_bonus(
        earn=posting,
        points=points,
        funder=campaign.funder,
        reason=campaign.name,
        idempotency_key=f"{key}:c{campaign.pk}",
    )
    if campaign.budget_points is not None:
        Campaign.objects.filter(pk=campaign.pk).update(budget_used=campaign.budget_used + points)
    CampaignApplication.objects.create(
        campaign=campaign,
        bonus=bonus,
        earn=earn,
        account=posting.account,
        member_id=member_id,
        day=day,
        points=points,
        reason=why[:300],
    )
    return points


def campaigns_earn(
    *,
    card: Card,
    store: Store,
    amount_yen: int,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    terminal=None,
    receipt_no: str = "",
    programme: Programme | None = None,
    item_categories: frozenset[str] = frozenset(),
) -> Posting:
    """Earn on a purchase, with the bonuses of every campaign that applies, in one transaction.

    A retry (same key) gets back what the first call wrote, bonuses included
    (they share the earning's operation).
    """
    programme = programme_for_store(store=store, programme=programme)
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        posting = points_earn(
            card=card,
            store=store,
            amount_yen=amount_yen,
            idempotency_key=idempotency_key,
            occurred_at=occurred_at,
            terminal=terminal,
            receipt_no=receipt_no,
            programme=programme,
        )
        if posting.replayed or not posting.entries:
            return posting
        campaigns = campaigns_active(programme=programme, at=occurred_at)
        if not campaigns:
            return posting
        earn = posting.entries[0]
        purchase = rules.Purchase(
            store_id=store.pk,
            store_category=store.category,
            amount_yen=amount_yen,
            base_points=earn.points,
            occurred_at=occurred_at,
            member=_member_facts(posting.account.member_id),
            first_at_store=_first_at_store(earn) if rules.needs_first_purchase(campaigns) else None,
            item_categories=frozenset(item_categories),
        )
        given_any = False
        for campaign in campaigns:
            why = rules.why_it_applies(campaign, purchase)
            if why is None or (campaign.exclusive and given_any):
                continue
            given = _give(campaign, posting, purchase, why, idempotency_key)
            given_any = given_any or given > 0
            if given and campaign.exclusive:
                break
    return posting


# --- the operators' changes -----------------------------------------------------------------


def campaign_save(*, campaign: Campaign, staff, changed: list[str] | None = None) -> Campaign:
    """Create or change a campaign; a change to a running one, or its activation, goes to the audit trail."""
    with transaction.atomic():
        adding = campaign.pk is None
        was = None if adding else Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
        if adding:
            campaign.created_by = staff
        campaign.save()
        if adding:
            summary = gettext_noop("Created a campaign")
        elif was != campaign.status and campaign.status == Campaign.Status.ACTIVE:
            summary = gettext_noop("Activated a campaign")
        elif campaign.status == Campaign.Status.ACTIVE or was == Campaign.Status.ACTIVE:
            summary = gettext_noop("Changed a running campaign")
        else:
            summary = gettext_noop("Changed a campaign")
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
            obj=campaign,
            summary=summary,
            detail={"changed": changed or [], "status": campaign.status},
        )
    return campaign


def campaign_set_status(*, campaign: Campaign, status: str, staff) -> Campaign:
    campaign.status = status
    return campaign_save(campaign=campaign, staff=staff, changed=["status"])
