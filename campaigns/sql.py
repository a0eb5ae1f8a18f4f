"""The campaigns' statements at the till as fixed SQL, called only by `campaigns.services` (see
`common/fixedsql.py`): an earning with fifty campaigns running sends them on every purchase."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection

from campaigns.models import Campaign, CampaignApplication
from common import fixedsql
from points.models import Entry

APPLICATION_COLUMNS = fixedsql.writable_columns(CampaignApplication)
EARNED_HERE_BEFORE = (
    "SELECT 1 FROM points_entry WHERE account_id = %s AND store_id = %s AND kind = %s AND id <> %s LIMIT 1"
)
GIVEN_TO_MEMBER = (
    "SELECT campaign_id, SUM(points), SUM(CASE WHEN day = %s THEN points ELSE 0 END) "
    "FROM campaigns_campaignapplication WHERE member_id = %s AND campaign_id IN ({ids}) GROUP BY campaign_id"
)
BUDGETS_LOCK = "SELECT id, budget_used FROM campaigns_campaign WHERE id IN ({ids}) ORDER BY id"
# Not through save(): a budget's use is no change of the campaign (its updated_at, which the till's copies
# of the running campaigns watch, stays).
BUDGET_USE = "UPDATE campaigns_campaign SET budget_used = %s WHERE id = %s"


def earned_here_before(*, earn: Entry) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(EARNED_HERE_BEFORE, [earn.account_id, earn.store_id, Entry.Kind.EARN, earn.pk])
        return cursor.fetchone() is not None


def given_to_member(*, campaign_ids: Sequence[int], member_id: int, day: datetime.date) -> dict[int, tuple[int, int]]:
    """Points each campaign gave the member on the day and in all."""
    day_value = CampaignApplication._meta.get_field("day").get_db_prep_value(day, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            GIVEN_TO_MEMBER.format(ids=fixedsql.placeholders(campaign_ids)), [day_value, member_id, *campaign_ids]
        )
        return {campaign_id: (int(today or 0), int(total or 0)) for campaign_id, total, today in cursor.fetchall()}


def budgets_lock(*, campaign_ids: Sequence[int]) -> dict[int, int]:
    """Lock the campaigns' rows, in primary-key order, and read their budgets used."""
    ids = sorted(campaign_ids)
    with connection.cursor() as cursor:
        cursor.execute(fixedsql.for_update(BUDGETS_LOCK.format(ids=fixedsql.placeholders(ids))), ids)
        return dict(cursor.fetchall())


def budget_use(*, campaign: Campaign, used: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(BUDGET_USE, [used, campaign.pk])


def applications_insert(applications: Sequence[CampaignApplication]) -> None:
    fixedsql.insert(CampaignApplication, applications, APPLICATION_COLUMNS)
