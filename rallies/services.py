"""Every write of the rallies app: stamps and goal rewards at the till, their removal on a void, prize
draws, and the operators' changes to rallies.

At the till these run inside the earning's (or the void's) transaction, after the
ledger has locked the member's account: the stamps of one member are never
given concurrently, so reading them and then adding one is safe. The database
still refuses a stamp against the rule and a second live reward of one goal.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import PromotionSummaries, audit_record, audited_promotion_save
from common.snapshots import RunningRows
from members.models import Member
from points.models import Entry
from points.services import Posting, points_bonus
from rallies import sql
from rallies.models import Draw, DrawWinner, GoalReached, Rally, RallyGoal, Stamp
from rallies.selectors import draw_eligible
from stores.models import Store

# Seeds up to 15 digits: plenty against guessing, short enough to read out and type in again.
SEED_LIMIT = 10**15


# A goal changed through rally_goals_save touches its rally; added or deleted goals change the count.
_RUNNING = RunningRows(
    model=Rally,
    active=lambda programme_id: Rally.objects.filter(
        programme_id=programme_id, status=Rally.Status.ACTIVE
    ).prefetch_related("goals"),
    version_also=(
        " || '/' || CAST((SELECT COUNT(*) FROM rallies_rallygoal WHERE rally_id IN "
        "(SELECT id FROM rallies_rally WHERE programme_id = %s)) AS TEXT)"
    ),
)


def rallies_running(*, programme_id: int, at: datetime.datetime) -> list[Rally]:
    """The programme's active rallies at a moment, with their goals (one small query while they are
    unchanged)."""
    return _RUNNING.running(programme_id, at)


# --- at the till -------------------------------------------------------------------------


def rallies_after_earn(
    *, posting: Posting, store: Store, amount_yen: int, occurred_at: datetime.datetime
) -> list[dict]:
    """Stamps and goal rewards for an earning, in its transaction; returns the receipt's rally lines.

    Call it after the earning (points_earn). A purchase at a store of a
    running rally earns a stamp when it reaches the rally's minimum and the stamp
    rule allows one (by default one per store and day). Each goal the member
    reaches for the first time gives its reward at once: bonus points on this
    earning (its key derived from the earning's, so that no retry gives twice)
    or an entry in the prize draw. A replayed earning, or one worth no points,
    gets nothing here. One query when no rally of the store is running.
    """
    if posting.replayed or not posting.entries:
        return []
    rallies = [
        rally
        for rally in rallies_running(programme_id=posting.account.programme_id, at=occurred_at)
        if store.pk in rally.store_ids
    ]
    if not rallies:
        return []
    member_id = posting.account.member_id
    day = timezone.localtime(occurred_at).date()
    stamps = _live_stamps(member_id, rallies)
    stamped = {
        rally.pk
        for rally in rallies
        if amount_yen >= rally.min_amount_yen and _rule_allows(rally, stamps[rally.pk], store.pk, day)
    }
    sql.stamps_insert(
        [
            Stamp(
                rally=rally,
                member_id=member_id,
                store=store,
                day=day,
                rule=rally.stamp_per,
                earn=posting.entries[0],
                stamped_at=occurred_at,
            )
            for rally in rallies
            if rally.pk in stamped
        ]
    )
    for rally_id in stamped:
        stamps[rally_id].append((store.pk, day))
    reached = _reward_goals([rally for rally in rallies if rally.pk in stamped], stamps, posting, occurred_at)
    return [
        _receipt_line(rally, stamps[rally.pk], stamped=rally.pk in stamped, reached=reached[rally.pk])
        for rally in rallies
    ]


def _live_stamps(member_id: int, rallies: list[Rally]) -> dict[int, list[tuple[int, datetime.date]]]:
    found = defaultdict(list)
    for rally_id, store_id, day in sql.live_stamps(member_id=member_id, rally_ids=[rally.pk for rally in rallies]):
        found[rally_id].append((store_id, day))
    return found


def _rule_allows(rally: Rally, stamps: list[tuple[int, datetime.date]], store_id: int, day: datetime.date) -> bool:
    if rally.stamp_per == Rally.StampPer.PURCHASE:
        return True
    if rally.stamp_per == Rally.StampPer.STORE:
        return all(stamped != store_id for stamped, _day in stamps)
    return (store_id, day) not in stamps


def _reward_goals(rallies: list[Rally], stamps, posting: Posting, occurred_at) -> dict[int, list[RallyGoal]]:
    """Give the reward of every goal the stamps now meet and that has not rewarded the member yet."""
    met = [goal for rally in rallies for goal in rally.goals.all() if goal.met_by(stamps[rally.pk])]
    reached = defaultdict(list)
    if not met:
        return reached
    member_id = posting.account.member_id
    earn = posting.entries[0]
    rewarded = set(
        GoalReached.objects.filter(goal__in=met, member_id=member_id, revoked_at__isnull=True).values_list(
            "goal_id", flat=True
        )
    )
    names = {rally.pk: rally.name for rally in rallies}
    for goal in met:
        if goal.pk in rewarded:
            continue
        bonus = None
        if goal.reward == RallyGoal.Reward.BONUS:
            bonus = points_bonus(
                earn=posting,
                points=goal.bonus_points,
                funder=goal.funder,
                reason=f"{names[goal.rally_id]} {goal.name}",
                idempotency_key=f"{earn.idempotency_key}:rally-goal{goal.pk}",
            )
        GoalReached.objects.create(
            goal=goal, member_id=member_id, earn=earn, reward=goal.reward, bonus=bonus, reached_at=occurred_at
        )
        reached[goal.rally_id].append(goal)
    return reached


def _shown_goal(rally: Rally, stamps) -> RallyGoal | None:
    """The goal the receipt counts towards: the first one not met yet, or the last one once all are."""
    goals = [goal for goal in rally.goals.all() if goal.size > 0]
    return next((goal for goal in goals if not goal.met_by(stamps)), goals[-1] if goals else None)


def _receipt_line(
    rally: Rally,
    stamps,
    *,
    stamped: bool,
    reached: Sequence[RallyGoal] = (),
    removed: bool = False,
    taken_back: Sequence[str] = (),
) -> dict:
    """What the receipt prints for one rally: numbers for the terminal, and the same as ready text.

    `stamp`: this purchase earned a stamp; `stamp_removed`: this void took one back.
    `stamped`/`goal`: progress towards the goal shown (`unit` says stores or stamps);
    `reached`/`taken_back`: names of the goals this purchase reached, or this void took back.
    """
    stores = len({store_id for store_id, _day in stamps})
    goal = _shown_goal(rally, stamps)
    if goal is None:
        done, size, unit = stores, None, "stores"
        text = _("%(done)s stores") % {"done": done}
    else:
        done, size = goal.progress(stamps), goal.size
        unit = "stamps" if goal.kind == RallyGoal.Kind.STAMPS else "stores"
        if unit == "stamps":
            text = _("%(done)s/%(goal)s stamps") % {"done": done, "goal": size}
        else:
            text = _("%(done)s/%(goal)s stores") % {"done": done, "goal": size}
    return {
        "rally": rally.name,
        "stamp": stamped,
        "goal_name": goal.name if goal else None,
        "stamped": done,
        "goal": size,
        "unit": unit,
        "progress": f"{done}/{size}" if size else str(done),
        "text": text,
        "stores_stamped": stores,
        "reached": [goal.name for goal in reached],
        "stamp_removed": removed,
        "taken_back": list(taken_back),
    }


def rallies_after_void(*, original_entry: Entry) -> list[dict]:
    """After a void or refund of a purchase (points_void), in its transaction: take its stamps back.

    A void removes the purchase's stamps; a refund removes them once what is
    left of the purchase is below the rally's minimum. What a purchase gave goes
    with it: a goal reward given on the voided purchase is taken back (its bonus
    points are part of the purchase and the ledger has just reversed them, on a
    refund too), and the member reaches that goal again, and is rewarded again,
    with the next stamp that brings them to it. A reward given on another
    purchase stays, even when the member is now below the goal: once given, it
    is kept.

    Returns the receipt's rally lines (as rallies_after_earn) for the rallies it changed.
    """
    stamps = list(
        Stamp.objects.filter(earn__operation=original_entry.operation, voided_at__isnull=True)
        .select_related("rally", "earn")
        .prefetch_related("rally__goals")
    )
    if not stamps:
        return []
    now = timezone.now()
    remaining = _left_of_purchase(stamps[0].earn)
    removed = {stamp.rally_id for stamp in stamps if remaining <= 0 or remaining < stamp.rally.min_amount_yen}
    Stamp.objects.filter(pk__in=[stamp.pk for stamp in stamps if stamp.rally_id in removed]).update(voided_at=now)
    taken_back = defaultdict(list)
    rewards = GoalReached.objects.filter(earn__operation=original_entry.operation, revoked_at__isnull=True)
    for reward in rewards.select_related("goal").order_by("goal__position", "goal_id"):
        reversed_bonus = reward.bonus_id and Entry.objects.filter(reverses_id=reward.bonus_id).exists()
        if reward.goal.rally_id in removed or reversed_bonus:
            GoalReached.objects.filter(pk=reward.pk).update(revoked_at=now)
            taken_back[reward.goal.rally_id].append(reward.goal.name)
    changed = [stamp.rally for stamp in stamps if stamp.rally_id in removed or taken_back[stamp.rally_id]]
    if not changed:
        return []
    left = _live_stamps(stamps[0].member_id, changed)
    return [
        _receipt_line(
            rally,
            left[rally.pk],
            stamped=False,
            removed=rally.pk in removed,
            taken_back=taken_back[rally.pk],
        )
        for rally in changed
    ]


def _left_of_purchase(earn: Entry) -> int:
    refunded = Entry.objects.filter(reverses=earn).aggregate(yen=Sum("amount_yen"))["yen"] or 0
    return (earn.amount_yen or 0) - refunded


# --- prize draws ---------------------------------------------------------------------------


def draw_winners(*, eligible: list[int], winners: int, seed: int) -> list[int]:
    """The draw itself: the same seed over the same members (ordered by id) gives the same winners."""
    return random.Random(seed).sample(sorted(eligible), k=min(winners, len(eligible)))


def rally_draw(*, goal: RallyGoal, winners: int, seed: int | None = None, staff) -> Draw:
    """Draw prize winners among the members holding a live entry of the goal, and record the draw.

    The seed is recorded (a fresh one from `secrets` when none is given); drawing
    again with it over the same eligible members names the same winners in the
    same order. The fingerprint of the eligible members shows whether they were
    the same.
    """
    if winners < 1:
        raise ValueError("A draw needs at least one winner.")
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    with transaction.atomic():
        eligible = draw_eligible(goal=goal)
        chosen = draw_winners(eligible=eligible, winners=winners, seed=seed)
        draw = Draw.objects.create(
            rally_id=goal.rally_id,
            goal=goal,
            seed=seed,
            winners_wanted=winners,
            eligible_count=len(eligible),
            eligible_digest=hashlib.sha256(",".join(map(str, eligible)).encode()).hexdigest(),
            drawn_at=timezone.now(),
            drawn_by=staff,
        )
        DrawWinner.objects.bulk_create(
            DrawWinner(draw=draw, position=position, member_id=member_id)
            for position, member_id in enumerate(chosen, start=1)
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=draw,
            summary=gettext_noop("Drew prize winners"),
            detail={"goal": goal.pk, "seed": seed, "winners": len(chosen), "eligible": len(eligible)},
        )
    return draw


# --- the operators' changes --------------------------------------------------------------


RALLY_SUMMARIES = PromotionSummaries(
    created=gettext_noop("Created a rally"),
    activated=gettext_noop("Activated a rally"),
    changed_running=gettext_noop("Changed a running rally"),
    changed=gettext_noop("Changed a rally"),
)


def rally_save(*, rally: Rally, staff, changed: list[str] | None = None) -> Rally:
    """Create or change a rally; recorded in the audit trail with the names of the fields changed, saying when
    it was running."""
    return audited_promotion_save(rally, staff=staff, changed=changed, summaries=RALLY_SUMMARIES)


def rally_goals_save(*, rally: Rally, goals: list[RallyGoal], deleted: list[RallyGoal], staff) -> None:
    """Save a rally's goals as an operator changed them. A goal already reached is never deleted."""
    with transaction.atomic():
        for goal in deleted:
            if GoalReached.objects.filter(goal=goal).exists():
                raise ValueError("A goal members have reached cannot be deleted.")
            audit_record(actor=staff, action=AuditEvent.Action.DELETE, obj=goal, detail={"rally": rally.pk})
            goal.delete()
        for goal in goals:
            adding = goal.pk is None
            goal.rally = rally
            goal.save()
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ADD if adding else AuditEvent.Action.CHANGE,
                obj=goal,
                detail={"rally": rally.pk},
            )
        # The tills' copy of the running rallies is read again when a rally changes.
        Rally.objects.filter(pk=rally.pk).update(updated_at=timezone.now())


def rally_set_status(*, rally: Rally, status: str, staff) -> Rally:
    rally.status = status
    return rally_save(rally=rally, staff=staff, changed=["status"])


# --- the member's lifecycle ----------------------------------------------------------------------------------


def rally_transfer(*, source: Member, target: Member) -> dict[str, int]:
    """On a merge: source's stamps, goals reached and draw places become target's, so that what the two
    records collected counts once for the one person.

    A stamp that target already holds under the rally's rule (the same store, or the same store and day) is
    not given twice: source's is voided and stays on the merged record. A goal both records reached counts
    once: source's reward is taken back (marked so; its bonus points, paid before the merge, stay with the
    member, as any reward once given does). A goal the two reach only together is rewarded with the next
    stamp, as any goal met and not yet rewarded is. Assumes the caller's transaction, which has locked both
    members' cards and accounts, so no till adds a stamp meanwhile."""
    now = timezone.now()
    held = {_rule_key(*row) for row in _stamp_keys(target)} - {None}
    duplicates = []
    for pk, *row in Stamp.objects.filter(member=source, voided_at__isnull=True).values_list(
        "pk", "rally_id", "store_id", "day", "rule"
    ):
        key = _rule_key(*row)
        if key is not None and key in held:
            duplicates.append(pk)
    Stamp.objects.filter(pk__in=duplicates).update(voided_at=now)
    stamps = Stamp.objects.filter(member=source).exclude(pk__in=duplicates).update(member=target)
    reached = set(GoalReached.objects.filter(member=target, revoked_at__isnull=True).values_list("goal_id", flat=True))
    twice = GoalReached.objects.filter(member=source, revoked_at__isnull=True, goal_id__in=reached)
    goals_twice = twice.update(revoked_at=now)
    goals = GoalReached.objects.filter(member=source).exclude(goal_id__in=reached).update(member=target)
    drawn = DrawWinner.objects.filter(member=target).values_list("draw_id", flat=True)
    DrawWinner.objects.filter(member=source).exclude(draw_id__in=list(drawn)).update(member=target)
    return {
        "stamps": stamps,
        "stamps_held_twice": len(duplicates),
        "goals": goals,
        "goals_reached_twice": goals_twice,
    }


def _stamp_keys(member: Member):
    live = Stamp.objects.filter(member=member, voided_at__isnull=True)
    return live.values_list("rally_id", "store_id", "day", "rule")


def _rule_key(rally_id: int, store_id: int, day: datetime.date, rule: str):
    """What the rally's rule allows once per member: a store, or a store and day (None: every purchase)."""
    if rule == Rally.StampPer.STORE:
        return rally_id, store_id, None
    if rule == Rally.StampPer.STORE_DAY:
        return rally_id, store_id, day
    return None
