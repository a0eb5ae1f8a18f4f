"""A member's scans: an event's points, a flyer's right, a store visit that redeems the rights; and a merge's
move of them.

A scan is one durable transaction. It refuses before writing what it can tell at once (a code not ours, a
suspended or ended membership, a period not begun or over); under the locks it takes the member's account
(opened if need be) first, then counts the claim on the event's or flyer's row with one conditional UPDATE
(`claims_count < max_claims`), which PostgreSQL re-checks on the row's latest version after waiting for a
concurrent claim, so a cap is never passed. A member's second scan credits nothing and says so: a claim and a
right are unique per member, and the entries' idempotency keys are too, so even two scans at the same moment
credit once. A scan's answer (ScanResult) is what the member site shows.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from common.formatting import datetime_text
from members.models import Member
from points import errors
from points.models import Entry
from points.services import member_check_usable, points_account_lock, points_grant
from qrpoints.models import Flyer, FlyerRight, QrClaim, QrEvent
from qrpoints.tokens import QrCodeInvalid, QrKind, qr_resolve
from stores.models import Store


class Outcome(enum.StrEnum):
    """What a scan did, for the member site to choose how to show it (the message says it in words)."""

    CREDITED = "credited"
    RIGHT_TAKEN = "right_taken"
    ALREADY = "already"
    NOT_YET = "not_yet"
    ENDED = "ended"
    FULL = "full"
    MEMBER_REFUSED = "member_refused"
    NOT_THIS_STORE = "not_this_store"
    NOTHING_WAITING = "nothing_waiting"
    INVALID = "invalid"


@dataclass(frozen=True)
class ScanResult:
    """A scan's answer. `kind` is a QrKind ("" for a code that is not ours); `points` what this scan credited
    (0 if nothing); `message` the sentence for the member, in the active language; `obj` the QrEvent, the
    Flyer or (for a visit code) the Store; `entries` the ledger entries written."""

    kind: str
    outcome: Outcome
    points: int
    message: str
    obj: QrEvent | Flyer | Store | None
    entries: tuple[Entry, ...] = ()

    @property
    def credited(self) -> bool:
        return self.points > 0


class _Refused(Exception):
    """A refusal found under the locks: the transaction rolls back and the result is answered."""

    def __init__(self, result: ScanResult):
        self.result = result
        super().__init__(result.message)


def _refused(kind: str, outcome: Outcome, message: str, obj) -> ScanResult:
    return ScanResult(kind=kind, outcome=outcome, points=0, message=message, obj=obj)


# --- the member scans a code ---------------------------------------------------------------------------------


def qr_scan(*, member: Member, token: str, at: datetime.datetime | None = None) -> ScanResult:
    """Any QR code of the programme that a signed-in member opens: an event's credits its points, a flyer's
    records the right to its points, a store's visit code credits every right the member holds for the
    flyers valid at that store now. A code that is not ours, altered or retired credits nothing."""
    try:
        kind, obj = qr_resolve(token)
    except QrCodeInvalid as error:
        return _refused("", Outcome.INVALID, str(error.message), None)
    if kind == QrKind.EVENT:
        return qr_event_claim(member=member, event=obj, at=at)
    if kind == QrKind.FLYER:
        return flyer_right_take(member=member, flyer=obj, at=at)
    return store_visit_redeem(member=member, store=obj, at=at)


def _member_refusal(member: Member, kind: str, obj) -> ScanResult | None:
    if member.status in Member.REFUSED_STATUSES:
        return _member_refused(kind, obj)
    return None


def _member_refused(kind: str, obj) -> ScanResult:
    return _refused(
        kind,
        Outcome.MEMBER_REFUSED,
        _("Your membership is suspended or has ended, so no points can be added."),
        obj,
    )


def _period_refusal(obj: QrEvent | Flyer, kind: str, at: datetime.datetime) -> ScanResult | None:
    if at < obj.valid_from:
        message = _("“%(name)s” starts at %(start)s. Please scan the code again then.") % {
            "name": obj.name,
            "start": datetime_text(obj.valid_from),
        }
        return _refused(kind, Outcome.NOT_YET, message, obj)
    if at >= obj.valid_until:
        message = _("“%(name)s” ended at %(end)s; no points were added.") % {
            "name": obj.name,
            "end": datetime_text(obj.valid_until),
        }
        return _refused(kind, Outcome.ENDED, message, obj)
    return None


def _full(obj: QrEvent | Flyer, kind: str) -> ScanResult:
    message = _("“%(name)s” has reached its limit of %(limit)s members; no points were added.") % {
        "name": obj.name,
        "limit": f"{obj.max_claims:,}",
    }
    return _refused(kind, Outcome.FULL, message, obj)


def _check_member_under_lock(member: Member, kind: str, obj) -> None:
    """The membership read again once the account is locked: a suspension or a merge that committed while
    this scan waited refuses it."""
    try:
        member_check_usable(member_id=member.pk)
    except errors.MemberNotUsable:
        raise _Refused(_member_refused(kind, obj)) from None


def qr_event_claim(*, member: Member, event: QrEvent, at: datetime.datetime | None = None) -> ScanResult:
    """Credit the event's points to the member, once, while the period runs and fewer than `max_claims`
    members have claimed them: a bonus entry with the event's funder (and its store), in the event's
    programme."""
    at = at or timezone.now()
    refusal = _member_refusal(member, QrKind.EVENT, event) or _period_refusal(event, QrKind.EVENT, at)
    if refusal is not None:
        return refusal
    try:
        with transaction.atomic(durable=True):
            return _event_claim(member, event, at)
    except _Refused as refused:
        return refused.result
    except IntegrityError:
        # The same member's other scan committed first (the claim and the entry's key are unique).
        if QrClaim.objects.filter(event=event, member=member).exists():
            return _event_already(event)
        raise


def _event_already(event: QrEvent) -> ScanResult:
    message = _("You have already received the points for “%(name)s”.") % {"name": event.name}
    return _refused(QrKind.EVENT, Outcome.ALREADY, message, event)


def _event_claim(member: Member, event: QrEvent, at: datetime.datetime) -> ScanResult:
    points_account_lock(member_id=member.pk, programme=event.programme)
    _check_member_under_lock(member, QrKind.EVENT, event)
    if QrClaim.objects.filter(event=event, member=member).exists():
        raise _Refused(_event_already(event))
    counted = QrEvent.objects.filter(pk=event.pk, claims_count__lt=F("max_claims")).update(
        claims_count=F("claims_count") + 1
    )
    if not counted:
        raise _Refused(_full(event, QrKind.EVENT))
    posting = points_grant(
        member_id=member.pk,
        programme=event.programme,
        points=event.points,
        funder=event.funder,
        store=event.store,
        reason=event.name,
        idempotency_key=f"qr-event:{event.pk}:{member.pk}",
        occurred_at=at,
    )
    QrClaim.objects.create(event=event, member=member, entry=posting.entries[0], claimed_at=at)
    message = _("%(points)s points for “%(name)s” have been added.") % {
        "points": f"{event.points:,}",
        "name": event.name,
    }
    return ScanResult(
        kind=QrKind.EVENT,
        outcome=Outcome.CREDITED,
        points=event.points,
        message=message,
        obj=event,
        entries=tuple(posting.entries),
    )


def flyer_right_take(*, member: Member, flyer: Flyer, at: datetime.datetime | None = None) -> ScanResult:
    """Record that the member scanned the flyer: the right to its points, credited when they scan the visit
    code of one of its stores within its period. At most `max_claims` members take a flyer, each once."""
    at = at or timezone.now()
    refusal = _member_refusal(member, QrKind.FLYER, flyer) or _period_refusal(flyer, QrKind.FLYER, at)
    if refusal is not None:
        return refusal
    held = FlyerRight.objects.filter(flyer=flyer, member=member).first()
    if held is not None:
        return _flyer_already(flyer, held)
    try:
        with transaction.atomic(durable=True):
            counted = (
                Flyer.objects.filter(pk=flyer.pk)
                .filter(Q(max_claims__isnull=True) | Q(rights_count__lt=F("max_claims")))
                .update(rights_count=F("rights_count") + 1)
            )
            if not counted:
                raise _Refused(_full(flyer, QrKind.FLYER))
            FlyerRight.objects.create(flyer=flyer, member=member, scanned_at=at)
    except _Refused as refused:
        return refused.result
    except IntegrityError:
        held = FlyerRight.objects.filter(flyer=flyer, member=member).first()
        if held is None:
            raise
        return _flyer_already(flyer, held)
    message = _(
        "Flyer “%(name)s” accepted. Scan the QR code at %(stores)s by %(end)s to receive %(points)s points."
    ) % {
        "name": flyer.name,
        "stores": _stores_text(flyer),
        "end": datetime_text(flyer.valid_until),
        "points": f"{flyer.points:,}",
    }
    return ScanResult(kind=QrKind.FLYER, outcome=Outcome.RIGHT_TAKEN, points=0, message=message, obj=flyer)


def _stores_text(flyer: Flyer, shown: int = 3) -> str:
    names = list(flyer.stores.order_by("code").values_list("name", flat=True)[: shown + 1])
    text = _(", ").join(names[:shown])
    if len(names) > shown:
        text = _("%(stores)s and other participating stores") % {"stores": text}
    return text


def _names(names: list[str]) -> str:
    """Flyers' names in a sentence: “A”, “B” (「A」、「B」 in Japanese)."""
    return _(", ").join(_("“%(name)s”") % {"name": name} for name in names)


def _flyer_already(flyer: Flyer, held: FlyerRight) -> ScanResult:
    if held.entry_id is not None:
        message = _("You have already received the points for flyer “%(name)s”.") % {"name": flyer.name}
    else:
        message = _(
            "You have already scanned flyer “%(name)s”. Scan the QR code at a participating store to receive "
            "the points."
        ) % {"name": flyer.name}
    return _refused(QrKind.FLYER, Outcome.ALREADY, message, flyer)


def store_visit_redeem(*, member: Member, store: Store, at: datetime.datetime | None = None) -> ScanResult:
    """The member scanned the store's visit code: every right they hold for a flyer of this store whose
    period runs now is credited (a bonus entry per flyer, issued at this store; a store-funded flyer is paid
    by this store at the close). Nothing else happens at a visit."""
    at = at or timezone.now()
    refusal = _member_refusal(member, QrKind.VISIT, store)
    if refusal is not None:
        return refusal
    try:
        with transaction.atomic(durable=True):
            return _visit_redeem(member, store, at)
    except _Refused as refused:
        return refused.result
    except IntegrityError:
        # The same member's other scan of a visit code credited these rights first.
        return _nothing_waiting(member, store)


def _visit_redeem(member: Member, store: Store, at: datetime.datetime) -> ScanResult:
    waiting = list(
        FlyerRight.objects.filter(member=member, entry__isnull=True).select_related("flyer__programme").order_by("pk")
    )
    if not waiting:
        raise _Refused(_nothing_waiting(member, store))
    flyer_ids = {right.flyer_id for right in waiting}
    here = set(
        Flyer.stores.through.objects.filter(flyer_id__in=flyer_ids, store=store).values_list("flyer_id", flat=True)
    )
    due = [right for right in waiting if right.flyer_id in here and _runs(right.flyer, at)]
    if not due:
        raise _Refused(_why_nothing_here(waiting, here, store, at))
    for programme in sorted({right.flyer.programme for right in due}, key=lambda programme: programme.pk):
        points_account_lock(member_id=member.pk, programme=programme)
    _check_member_under_lock(member, QrKind.VISIT, store)
    # Read again under the account locks: a visit scanned at the same moment may have credited them.
    still = set(FlyerRight.objects.filter(pk__in=[right.pk for right in due], entry__isnull=True).values_list("pk"))
    due = [right for right in due if (right.pk,) in still]
    if not due:
        raise _Refused(_nothing_waiting(member, store))
    entries = []
    for right in due:
        flyer = right.flyer
        posting = points_grant(
            member_id=member.pk,
            programme=flyer.programme,
            points=flyer.points,
            funder=flyer.funder,
            store=store,
            reason=flyer.name,
            idempotency_key=f"qr-flyer:{flyer.pk}:{member.pk}",
            occurred_at=at,
        )
        right.entry, right.redeemed_at, right.redeemed_store = posting.entries[0], at, store
        right.save(update_fields=["entry", "redeemed_at", "redeemed_store"])
        entries += posting.entries
    points = sum(entry.points for entry in entries)
    message = _("%(points)s points for %(flyers)s have been added at %(store)s.") % {
        "points": f"{points:,}",
        "flyers": _names([right.flyer.name for right in due]),
        "store": store.name,
    }
    return ScanResult(
        kind=QrKind.VISIT,
        outcome=Outcome.CREDITED,
        points=points,
        message=message,
        obj=store,
        entries=tuple(entries),
    )


def _runs(flyer: Flyer, at: datetime.datetime) -> bool:
    return flyer.valid_from <= at < flyer.valid_until


def _nothing_waiting(member: Member, store: Store) -> ScanResult:
    if FlyerRight.objects.filter(member=member, entry__isnull=False).exists():
        message = _("You have already received the points of your flyers; none are waiting.")
        return _refused(QrKind.VISIT, Outcome.ALREADY, message, store)
    message = _("You have no flyer points waiting. Scan a flyer's QR code first.")
    return _refused(QrKind.VISIT, Outcome.NOTHING_WAITING, message, store)


def _why_nothing_here(waiting: list[FlyerRight], here: set[int], store: Store, at) -> ScanResult:
    """Why none of the member's rights is credited at this store now: a flyer of this store whose period is
    not running, else flyers still running elsewhere, else flyers that have all ended."""
    for right in waiting:
        if right.flyer_id in here:
            return _visit_period_refusal(right.flyer, store, at)
    running = [right.flyer for right in waiting if _runs(right.flyer, at)]
    if running:
        message = _("%(store)s is not a participating store of %(flyers)s; no points were added.") % {
            "store": store.name,
            "flyers": _names([flyer.name for flyer in running]),
        }
        return _refused(QrKind.VISIT, Outcome.NOT_THIS_STORE, message, store)
    return _visit_period_refusal(max((right.flyer for right in waiting), key=lambda f: f.valid_until), store, at)


def _visit_period_refusal(flyer: Flyer, store: Store, at) -> ScanResult:
    refusal = _period_refusal(flyer, QrKind.VISIT, at)
    return ScanResult(kind=QrKind.VISIT, outcome=refusal.outcome, points=0, message=refusal.message, obj=store)


# --- the member's lifecycle ------------------------------------------------------------------------------------


def qr_transfer(*, source: Member, target: Member) -> dict[str, int]:
    """On a merge: source's event claims and flyer rights become target's, so that the one person claims an
    event, or takes a flyer, once. Where both records hold one for the same event or flyer, source's stays on the
    merged record (a claim's points were credited and moved with the accounts; a right left there is never
    redeemed). Assumes the caller's transaction, which has locked both members and their accounts."""
    claimed = QrClaim.objects.filter(member=target).values("event_id")
    claims = QrClaim.objects.filter(member=source).exclude(event_id__in=claimed).update(member=target)
    held = FlyerRight.objects.filter(member=target).values("flyer_id")
    rights = FlyerRight.objects.filter(member=source).exclude(flyer_id__in=held).update(member=target)
    return {"qr_claims": claims, "flyer_rights": rights}
