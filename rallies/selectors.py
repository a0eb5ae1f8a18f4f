"""Reads of the rallies app: who takes part, stamps per store, the completion funnel, goal results and
who may win a draw. Figures here are exact; the admin hides groups of fewer than five members (common.privacy)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from members.models import Member
from rallies.models import GoalReached, Rally, RallyGoal, Stamp
from stores.models import Store


def rally_participants(*, rally: Rally) -> int:
    """Members with at least one live stamp."""
    return Stamp.objects.filter(rally=rally, voided_at__isnull=True).values("member_id").distinct().count()


@dataclass(frozen=True)
class StoreStamps:
    store: Store
    stamps: int
    members: int


def rally_stamps_per_store(*, rally: Rally) -> list[StoreStamps]:
    """Live stamps and distinct members at each participating store, the stores without any included."""
    counts = {
        row["store_id"]: row
        for row in Stamp.objects.filter(rally=rally, voided_at__isnull=True)
        .values("store_id")
        .annotate(stamps=Count("id"), members=Count("member_id", distinct=True))
    }
    stores = Store.objects.filter(pk__in=set(rally.store_ids) | set(counts)).order_by("code")
    return [
        StoreStamps(
            store=store,
            stamps=counts.get(store.pk, {}).get("stamps", 0),
            members=counts.get(store.pk, {}).get("members", 0),
        )
        for store in stores
    ]


def _progress_by_member(goal: RallyGoal) -> Counter:
    """How far each member has come towards the goal: {member id: stores or stamps}."""
    stamps = Stamp.objects.filter(rally_id=goal.rally_id, voided_at__isnull=True)
    if goal.kind == RallyGoal.Kind.STAMPS:
        rows = stamps.values("member_id").annotate(n=Count("id"))
    else:
        if goal.kind == RallyGoal.Kind.ALL_STORES_OF:
            stamps = stamps.filter(store_id__in=goal.area_store_ids or [])
        rows = stamps.values("member_id").annotate(n=Count("store_id", distinct=True))
    return Counter({row["member_id"]: row["n"] for row in rows.order_by()})


def rally_funnel(*, goal: RallyGoal) -> list[tuple[int, int]]:
    """The completion funnel: (k, members who have come at least k of the way) for k = 1 … the goal."""
    reached = Counter(min(n, goal.size) for n in _progress_by_member(goal).values())
    rows, at_least = [], 0
    for step in range(goal.size, 0, -1):
        at_least += reached.get(step, 0)
        rows.append((step, at_least))
    return rows[::-1]


@dataclass(frozen=True)
class GoalResult:
    goal: RallyGoal
    members: int
    bonus_points: int


def rally_goal_results(*, rally: Rally) -> list[GoalResult]:
    """Per goal, the members holding its reward and the bonus points those rewards cost.

    A reward taken back (its purchase voided) counts in neither: the ledger reversed its points.
    """
    goals = list(rally.goals.all())
    live = Q(revoked_at__isnull=True)
    rows = {
        row["goal_id"]: row
        for row in GoalReached.objects.filter(goal__in=goals)
        .values("goal_id")
        .annotate(members=Count("id", filter=live), points=Sum("bonus__points", filter=live))
        .order_by()
    }
    return [
        GoalResult(
            goal=goal,
            members=rows.get(goal.pk, {}).get("members", 0),
            bonus_points=rows.get(goal.pk, {}).get("points") or 0,
        )
        for goal in goals
    ]


def draw_eligible(*, goal: RallyGoal) -> list[int]:
    """Ids, in order, of the members holding a live entry of the goal; withdrawn or suspended members are out."""
    return list(
        GoalReached.objects.filter(goal=goal, revoked_at__isnull=True)
        .exclude(Q(member__status=Member.Status.WITHDRAWN) | Q(member__status=Member.Status.SUSPENDED))
        .order_by("member_id")
        .values_list("member_id", flat=True)
        .distinct()
    )


# --- the member page ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRally:
    """One rally as one member stands in it: live stamps, at how many stores, and the goals reached."""

    rally: Rally
    stamps: int
    stores: int
    goals: list[RallyGoal]
    reached: list[GoalReached]


def member_rallies(*, member_id: int, programme_ids: Collection[int] | None = None) -> list[MemberRally]:
    """Every rally (of the programmes named, or all) the member has a live stamp or goal in, the latest rally
    first."""
    stamps = {
        row["rally_id"]: row
        for row in Stamp.objects.filter(member_id=member_id, voided_at__isnull=True)
        .values("rally_id")
        .annotate(stamps=Count("id"), stores=Count("store_id", distinct=True))
        .order_by()
    }
    reached: dict[int, list[GoalReached]] = {}
    for goal_reached in (
        GoalReached.objects.filter(member_id=member_id, revoked_at__isnull=True)
        .select_related("goal", "bonus")
        .order_by("goal__position", "goal_id")
    ):
        reached.setdefault(goal_reached.goal.rally_id, []).append(goal_reached)
    rallies = Rally.objects.filter(pk__in=set(stamps) | set(reached))
    if programme_ids is not None:
        rallies = rallies.filter(programme_id__in=programme_ids)
    rallies = rallies.prefetch_related("goals").order_by("-starts_at", "-pk")
    return [
        MemberRally(
            rally=rally,
            stamps=stamps.get(rally.pk, {}).get("stamps", 0),
            stores=stamps.get(rally.pk, {}).get("stores", 0),
            goals=list(rally.goals.all()),
            reached=reached.get(rally.pk, []),
        )
        for rally in rallies
    ]
