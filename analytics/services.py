"""Every write of the analytics app: the refresh of the summary tables from the ledger.

`analytics_refresh(first_day=..., last_day=...)` replaces the summaries of those Tokyo days, and the monthly
rows of their months (counted afresh from the ledger), in one transaction: readers see the old rows or the
new, never half. Days are the days entries were recorded, as the monthly close reads them, so a
day that has ended never changes again; the schedule refreshes today every few minutes and yesterday once
after midnight (analytics.tasks), and `manage.py refresh_analytics` catches up or rebuilds from a day.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from analytics import sql
from analytics.models import (
    Circulation,
    Dormancy,
    LotFlow,
    PointsFlow,
    Registration,
    SummaryState,
    Visit,
    VisitDay,
)
from points.models import Entry
from ranks.models import RankRecord
from stores.selectors import local_midnight


@dataclass(frozen=True)
class Refreshed:
    first_day: datetime.date
    last_day: datetime.date
    seconds: float


def summary_state() -> SummaryState:
    return SummaryState.objects.order_by("pk").first() or SummaryState()


def ledger_first_day() -> datetime.date | None:
    """The Tokyo day of the first entry recorded, or None for an empty ledger."""
    first = Entry.objects.order_by("recorded_at").values_list("recorded_at", flat=True).first()
    return timezone.localtime(first).date() if first else None


def analytics_refresh(*, first_day: datetime.date | None = None, now=None) -> Refreshed:
    """Summarise the days from `first_day` (default: the day after the last final one, or the ledger's first
    day) to today, and the months they fall in. Returns what was done."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    started = time.perf_counter()
    with transaction.atomic():
        state = _locked_state()
        if first_day is None:
            first_day = (
                state.final_through + datetime.timedelta(days=1) if state.final_through else ledger_first_day()
            ) or today
        first_day = min(first_day, today)
        final_through = state.final_through
        _refresh(first_day, today)
        _extend(state, first_day, today)
        if final_through is not None and first_day <= final_through:
            # Final days were rewritten: the next verification reads them again, and one reading now records
            # nothing.
            state.final_rewrites += 1
            if state.reconciled_through is not None and first_day <= state.reconciled_through:
                state.reconciled_through = first_day - datetime.timedelta(days=1)
        state.covered_until = now
        state.refreshed_at = timezone.now()
        state.seconds = round(time.perf_counter() - started, 3)
        state.save()
    return Refreshed(first_day=first_day, last_day=today, seconds=state.seconds)


def analytics_refresh_today(*, now=None) -> Refreshed:
    """What the schedule runs every few minutes: today, and any day before it not yet final."""
    return analytics_refresh(now=now)


def _extend(state: SummaryState, first_day: datetime.date, today: datetime.date) -> None:
    """The summaries are whole and final from `state.first_day` to `state.final_through`: a day refreshed
    after it ended no longer changes (today's rows do, until tomorrow's refresh). A refresh that leaves a gap
    after them starts the span afresh."""
    ended = today - datetime.timedelta(days=1)
    ended = ended if ended >= first_day else None
    joins = state.final_through is not None and first_day <= state.final_through + datetime.timedelta(days=1)
    if joins:
        state.first_day = min(state.first_day or first_day, first_day)
        state.final_through = max(state.final_through, ended or state.final_through)
    else:
        state.first_day, state.final_through = first_day, ended


def _locked_state() -> SummaryState:
    # One refresh at a time: a second one waits here for the first to commit.
    state = SummaryState.objects.select_for_update().order_by("pk").first()
    if state is None:
        state = SummaryState.objects.create()
        state = SummaryState.objects.select_for_update().get(pk=state.pk)
    return state


def _refresh(first_day: datetime.date, last_day: datetime.date) -> None:
    after = last_day + datetime.timedelta(days=1)
    days = [first_day, last_day]
    moments = [sql.moment(local_midnight(first_day)), sql.moment(local_midnight(after))]
    month = first_day.replace(day=1)
    # The monthly rows are counted afresh over their whole months (distinct members do not add up by day).
    month_moments = [sql.moment(local_midnight(month)), sql.moment(local_midnight(after))]
    ranked = RankRecord.objects.exists()
    everyone = not Visit.objects.filter(day__lt=first_day).exists()
    for model in (PointsFlow, Circulation):
        model.objects.filter(period="D", day__gte=first_day).delete()
        model.objects.filter(period="M", day__gte=month).delete()
    for model in (LotFlow, Visit, VisitDay, Dormancy, Registration):
        model.objects.filter(day__gte=first_day).delete()
    postgres = connection.vendor == "postgresql"
    large = (last_day - first_day).days > 31
    with connection.cursor() as cursor:
        if postgres:
            # Room for the grouping in memory; for this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql.points_insert(ranked=ranked, period="D"), moments * 2)
        cursor.execute(sql.points_insert(ranked=ranked, period="M"), month_moments * 2)
        cursor.execute(sql.lot_flow_insert(), moments * 2)
        cursor.execute(sql.circulation_insert(period="D"), moments * 2)
        cursor.execute(sql.circulation_insert(period="M"), month_moments * 2)
        cursor.execute(sql.visits_insert(ranked=ranked, everyone=everyone), moments + ([] if everyone else [first_day]))
        if not everyone:
            cursor.execute(sql.visits_link_before(), [*days, first_day, first_day])
        if postgres and large:
            # The planner must know the visits just written before it joins them with themselves.
            cursor.execute("ANALYZE analytics_visit")
        cursor.execute(sql.visit_days_insert(), days * 2)
        cursor.execute(sql.dormancy_insert(), days * 2)
        cursor.execute(sql.registrations_insert(ranked=ranked), moments * 2)


def analytics_reconciled(*, through: datetime.date, rewrites: int) -> None:
    """Record that the final summaries up to this day reconcile with the ledger (verify_ledger, after a passing
    reading), unless a refresh has rewritten final days since the reading began (`rewrites`, as it read it)."""
    with transaction.atomic():
        state = _locked_state()
        if state.final_rewrites == rewrites and state.final_through is not None and through <= state.final_through:
            state.reconciled_through = max(state.reconciled_through or through, through)
            state.save(update_fields=["reconciled_through"])
