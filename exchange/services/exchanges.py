"""Exchanges and reservations at the desk: their creation, collection, cancellation and lapse (see the
package's docstring for the locking order)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from exchange import errors, windows
from exchange.models import Counter, Exchange, ExchangeLine, ExchangeSequence, Item, StockMove
from exchange.services.stock import stock_move
from points.services import points_exchange, points_exchange_return

# Exchanges that hold stock and count towards limits: reserved and handed over (not cancelled or lapsed).
COUNTING = (Exchange.Status.RESERVED, Exchange.Status.HANDED_OVER)
MAX_QUANTITY = 1000


def exchange_create(
    *,
    member,
    counter: Counter,
    lines: list[tuple[Item, int]],
    staff,
    idempotency_key: str,
    at: datetime.datetime | None = None,
    override_reason: str = "",
    reserve: bool = False,
) -> Exchange:
    """Exchange points for items at a counter (handed over at once), or reserve them (`reserve=True`,
    e.g. by phone) to be collected by the last open day of the current or next window.

    All or nothing, in one transaction. The same `idempotency_key` again returns the first exchange.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise errors.InvalidRequest()
    done = Exchange.objects.filter(idempotency_key=key).first()
    if done is not None:
        return done
    wanted = _merge_lines(lines)
    at = at or timezone.now()
    override_reason = (override_reason or "").strip()
    try:
        with transaction.atomic(durable=True):
            return _create(
                member=member,
                counter=counter,
                wanted=wanted,
                staff=staff,
                key=key,
                at=at,
                override_reason=override_reason,
                reserve=reserve,
            )
    except IntegrityError:
        # Two submits of one key at once: the other one won.
        done = Exchange.objects.filter(idempotency_key=key).first()
        if done is None:
            raise
        return done


def _merge_lines(lines: Iterable[tuple[Item, int]]) -> dict[int, int]:
    """Quantities by item pk; an item listed twice counts once with both quantities."""
    wanted: dict[int, int] = {}
    for item, quantity in lines or ():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise errors.InvalidRequest()
        if quantity:
            wanted[item.pk] = wanted.get(item.pk, 0) + quantity
    if not wanted or any(quantity > MAX_QUANTITY for quantity in wanted.values()):
        raise errors.InvalidRequest()
    return wanted


def _create(*, member, counter, wanted, staff, key, at, override_reason, reserve) -> Exchange:
    counter = Counter.objects.select_related("programme").get(pk=counter.pk)
    programme = counter.programme
    if not counter.is_active or not programme.is_active:
        raise errors.CounterUnavailable()
    today = timezone.localtime(at).date()
    used_override = ""
    collect_by = None
    if reserve:
        window, collect_by = _collection_window(counter, today)
        first_day = max(today, window.start)
    elif windows.is_open(counter, at):
        window = windows.window_on(programme, today)
        first_day = today
    else:
        _check_override(counter, staff, at, override_reason)
        used_override = override_reason
        window = windows.current_or_next_window(programme, today)
        first_day = today
    window_start = window.start if window is not None else today

    items = list(Item.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
    # A second submit of this key that waited for the first one's locks finds its exchange now.
    done = Exchange.objects.filter(idempotency_key=key).first()
    if done is not None:
        return done
    if len(items) != len(wanted):
        raise errors.InvalidRequest()
    _check_items(items, wanted, counter=counter, day=first_day)
    _check_counts(items, wanted, member=member, window_start=window_start)

    points = sum(item.price_points * wanted[item.pk] for item in items)
    face_value = sum(item.face_value_yen * wanted[item.pk] for item in items)
    serial = _next_serial(today.year)
    posting = points_exchange(
        member=member,
        programme=programme,
        points=points,
        idempotency_key=f"exchange:{serial}",
        staff=staff,
        reason=serial,
        occurred_at=at,
    )
    exchange = Exchange.objects.create(
        programme=programme,
        member=member,
        counter=counter,
        serial=serial,
        status=Exchange.Status.RESERVED if reserve else Exchange.Status.HANDED_OVER,
        points=points,
        face_value_yen=face_value,
        entry=posting.entries[0],
        window_start=window_start,
        collect_by=collect_by,
        override_reason=used_override,
        idempotency_key=key,
        staff=staff,
        created_at=at,
        handed_over_at=None if reserve else at,
    )
    ExchangeLine.objects.bulk_create(
        ExchangeLine(
            exchange=exchange,
            item=item,
            quantity=wanted[item.pk],
            unit_points=item.price_points,
            unit_face_value_yen=item.face_value_yen,
        )
        for item in items
    )
    kind = StockMove.Kind.RESERVED if reserve else StockMove.Kind.HANDED_OVER
    stock_move(items, {pk: -quantity for pk, quantity in wanted.items()}, kind=kind, exchange=exchange, staff=staff)
    audit_record(
        actor=staff,
        action=AuditEvent.Action.ADD,
        obj=exchange,
        summary=gettext_noop("Reserved an exchange") if reserve else gettext_noop("Exchanged points at the desk"),
        detail={
            "member": member.pk,
            "counter": counter.pk,
            "points": points,
            "lines": {str(pk): quantity for pk, quantity in wanted.items()},
            "override_reason": used_override,
        },
    )
    return exchange


def _check_override(counter: Counter, staff, at: datetime.datetime, override_reason: str) -> None:
    if not override_reason:
        raise errors.OutsideWindow(next_opening=windows.next_opening(counter.programme, counter, at))
    if not (staff is not None and staff.has_perm("exchange.override_window")):
        raise errors.OverrideNotAllowed()


def _collection_window(counter: Counter, today: datetime.date) -> tuple[windows.Window, datetime.date]:
    """The window a reservation is collected in (the current one, or the next one once the current one
    has no day left when the counter is open) and its last day at that counter."""
    for window in windows.windows_from(counter.programme, today):
        last = windows.last_collection_day(counter, window)
        if last is not None and last >= today:
            return window, last
    raise errors.OutsideWindow(next_opening=None)


def _check_items(items: list[Item], wanted: dict[int, int], *, counter: Counter, day: datetime.date) -> None:
    restricted: dict[int, set[int]] = {}
    for item_id, counter_id in Item.counters.through.objects.filter(item_id__in=wanted).values_list(
        "item_id", "counter_id"
    ):
        restricted.setdefault(item_id, set()).add(counter_id)
    for item in items:
        if item.programme_id != counter.programme_id or not item.is_active_on(day):
            raise errors.ItemUnavailable(item=item)
        if item.pk in restricted and counter.pk not in restricted[item.pk]:
            raise errors.ItemUnavailable(item=item)
        if item.stock_on_hand < wanted[item.pk]:
            raise errors.OutOfStock(item=item, available=item.stock_on_hand)


def counted_quantities(*, items, window_start: datetime.date, member=None, year: int | None = None) -> dict[int, int]:
    """How many of each item reserved or handed over exchanges hold: in the window starting on
    `window_start`, or (given `year`) in the windows of that calendar year; of `member` when given."""
    lines = ExchangeLine.objects.filter(item__in=items, exchange__status__in=COUNTING)
    if year is not None:
        lines = lines.filter(exchange__window_start__year=year)
    else:
        lines = lines.filter(exchange__window_start=window_start)
    if member is not None:
        lines = lines.filter(exchange__member=member)
    return dict(lines.values_list("item").annotate(n=Sum("quantity")).order_by())


def _check_counts(items: list[Item], wanted: dict[int, int], *, member, window_start: datetime.date) -> None:
    capped = [item for item in items if item.first_come_per_window is not None]
    if capped:
        taken = counted_quantities(items=capped, window_start=window_start)
        for item in capped:
            left = max(item.first_come_per_window - taken.get(item.pk, 0), 0)
            if wanted[item.pk] > left:
                raise errors.WindowQuantityReached(item=item, left=left)
    for which, field in (("window", "limit_per_member_window"), ("year", "limit_per_member_year")):
        limited = [item for item in items if getattr(item, field) is not None]
        if not limited:
            continue
        year = window_start.year if which == "year" else None
        taken = counted_quantities(items=limited, window_start=window_start, member=member, year=year)
        for item in limited:
            left = max(getattr(item, field) - taken.get(item.pk, 0), 0)
            if wanted[item.pk] > left:
                raise errors.LimitReached(item=item, which=which, left=left)


def _next_serial(year: int) -> str:
    """EX-2026-000001: gapless per year, taken under the year's row lock (a rollback gives it back)."""
    sequence, _created = ExchangeSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"EX-{year}-{sequence.last_number:06d}"


def _lock_exchange(exchange: Exchange) -> Exchange:
    return Exchange.objects.select_for_update().get(pk=exchange.pk)


def _lines_and_items(exchange: Exchange) -> tuple[dict[int, int], list[Item]]:
    wanted = dict(exchange.lines.values_list("item_id", "quantity"))
    items = list(Item.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
    return wanted, items


def exchange_collect(*, exchange: Exchange, staff, at: datetime.datetime | None = None, override_reason: str = ""):
    """A reservation collected at its counter: reserved -> handed over, within a window (or overridden)."""
    at = at or timezone.now()
    override_reason = (override_reason or "").strip()
    with transaction.atomic(durable=True):
        exchange = _lock_exchange(exchange)
        if exchange.status != Exchange.Status.RESERVED:
            raise errors.WrongStatus(serial=exchange.serial, status=exchange.get_status_display())
        counter = exchange.counter
        used_override = ""
        late = timezone.localtime(at).date() > exchange.collect_by
        if late or not windows.is_open(counter, at):
            if late and not override_reason:
                raise errors.ReservationExpired(collect_by=exchange.collect_by)
            _check_override(counter, staff, at, override_reason)
            used_override = override_reason
        wanted, items = _lines_and_items(exchange)
        # The hold is given back and the goods leave: the stock on hand does not change.
        stock_move(items, wanted, kind=StockMove.Kind.RELEASED, exchange=exchange, staff=staff)
        stock_move(
            items, {pk: -q for pk, q in wanted.items()}, kind=StockMove.Kind.HANDED_OVER, exchange=exchange, staff=staff
        )
        exchange.status = Exchange.Status.HANDED_OVER
        exchange.handed_over_at = at
        fields = ["status", "handed_over_at"]
        if used_override:
            exchange.override_reason = used_override
            fields.append("override_reason")
        exchange.save(update_fields=fields)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=exchange,
            summary=gettext_noop("Handed over a reserved exchange"),
            detail={"override_reason": used_override},
        )
    return exchange


def _undo(exchange: Exchange, *, staff, reason: str, status: str) -> None:
    """Points back to the original lots, stock back, the exchange marked cancelled or lapsed (the exchange
    row is locked)."""
    was = exchange.status
    wanted, items = _lines_and_items(exchange)
    kind = StockMove.Kind.RETURNED if was == Exchange.Status.HANDED_OVER else StockMove.Kind.RELEASED
    stock_move(items, wanted, kind=kind, exchange=exchange, staff=staff, reason=reason)
    posting = points_exchange_return(
        entry=exchange.entry,
        member_id=exchange.member_id,
        idempotency_key=f"exchange-return:{exchange.serial}",
        staff=staff,
        reason=reason,
    )
    exchange.status = status
    exchange.return_entry = posting.entries[0]
    fields = ["status", "return_entry"]
    now = timezone.now()
    if status == Exchange.Status.CANCELLED:
        exchange.cancelled_at, exchange.cancel_reason = now, reason
        fields += ["cancelled_at", "cancel_reason"]
    else:
        exchange.lapsed_at = now
        fields.append("lapsed_at")
    exchange.save(update_fields=fields)


def exchange_cancel(*, exchange: Exchange, staff, reason: str) -> Exchange:
    """Cancel an exchange (handed over or reserved): points back into the lots they came from, with their
    original expiry; goods back into stock (or the reservation's hold released)."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    if not (staff is not None and staff.has_perm("exchange.cancel_exchange")):
        raise errors.CancelNotAllowed()
    with transaction.atomic(durable=True):
        exchange = _lock_exchange(exchange)
        if exchange.status not in COUNTING:
            raise errors.WrongStatus(serial=exchange.serial, status=exchange.get_status_display())
        was = exchange.status
        _undo(exchange, staff=staff, reason=reason[:300], status=Exchange.Status.CANCELLED)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=exchange,
            summary=gettext_noop("Cancelled an exchange"),
            detail={"was": was, "reason": reason[:300], "points": exchange.points},
        )
    return exchange


def exchange_lapse_due(*, today: datetime.date | None = None) -> int:
    """The nightly job: reservations not collected by their last day lapse, giving points and stock back.

    One short transaction per reservation; running it twice lapses nothing twice. Returns how many lapsed.
    """
    today = today or timezone.localdate()
    due = list(
        Exchange.objects.filter(status=Exchange.Status.RESERVED, collect_by__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    lapsed = 0
    # Written into the ledger: in the office's language, whatever the worker's.
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext("Reservation not collected")
    for pk in due:
        with transaction.atomic():
            exchange = Exchange.objects.select_for_update().get(pk=pk)
            if exchange.status != Exchange.Status.RESERVED or exchange.collect_by >= today:
                continue
            _undo(exchange, staff=None, reason=reason, status=Exchange.Status.LAPSED)
            audit_record(
                actor=None,
                action=AuditEvent.Action.ACTION,
                obj=exchange,
                summary=gettext_noop("A reservation lapsed"),
                detail={"collect_by": exchange.collect_by.isoformat(), "points": exchange.points},
            )
            lapsed += 1
    return lapsed


# --- the member's lifecycle ----------------------------------------------------------------------------------


def exchange_transfer(*, source, target) -> int:
    """On a merge: source's exchanges and reservations become target's (a reservation is collected or
    cancelled as target's; its points come back to target's account). Returns how many moved. Assumes the
    caller's transaction, which has locked both members."""
    return Exchange.objects.filter(member=source).update(member=target)


def exchange_reservations_release(*, member, staff, reason: str) -> int:
    """On a withdrawal: the member's reservations are cancelled, points back into the account (before the
    withdrawal forfeits them) and stock released. Returns how many. Assumes the caller's transaction, which
    has locked the member's cards and row but not yet the account (the desk's order: exchange, items, account)."""
    released = 0
    reserved = Exchange.objects.select_for_update().filter(member=member, status=Exchange.Status.RESERVED)
    for exchange in reserved.order_by("pk"):
        _undo(exchange, staff=staff, reason=reason[:300], status=Exchange.Status.CANCELLED)
        released += 1
    return released
