"""The stock ledger of the catalogue's items: goods received and written off, and the moves every
exchange, return and lapse writes (each updating the item's cached stock while its row is locked)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from exchange import errors
from exchange.models import Item, StockMove


def stock_move(items: list[Item], changes: dict[int, int], *, kind: str, exchange=None, staff=None, reason=""):
    """Write the stock moves and update the cached stock of the (locked) items."""
    now = timezone.now()
    moves = []
    for item in items:
        quantity = changes.get(item.pk)
        if not quantity:
            continue
        moves.append(
            StockMove(
                item=item, kind=kind, quantity=quantity, exchange=exchange, staff=staff, reason=reason, created_at=now
            )
        )
        item.stock_on_hand += quantity
        item.save(update_fields=["stock_on_hand"])
    return StockMove.objects.bulk_create(moves)


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1_000_000:
        raise errors.InvalidRequest()
    return quantity


def stock_receive(*, item: Item, quantity: int, staff, reason: str = "") -> StockMove:
    """Goods delivered to the secretariat: the stock grows."""
    _check_quantity(quantity)
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        (move,) = stock_move([locked], {locked.pk: quantity}, kind=StockMove.Kind.RECEIVED, staff=staff, reason=reason)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD,
            obj=locked,
            summary=gettext_noop("Received stock"),
            detail={"quantity": quantity, "reason": reason},
        )
    item.stock_on_hand = locked.stock_on_hand
    return move


def stock_write_off(*, item: Item, quantity: int, staff, reason: str) -> StockMove:
    """Goods lost, damaged or sent back: the stock shrinks, never below zero; a reason is required."""
    _check_quantity(quantity)
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.stock_on_hand < quantity:
            raise errors.OutOfStock(item=locked, available=locked.stock_on_hand)
        (move,) = stock_move(
            [locked], {locked.pk: -quantity}, kind=StockMove.Kind.WRITTEN_OFF, staff=staff, reason=reason[:300]
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.CHANGE,
            obj=locked,
            summary=gettext_noop("Wrote off stock"),
            detail={"quantity": quantity, "reason": reason[:300]},
        )
    item.stock_on_hand = locked.stock_on_hand
    return move


def stock_in_ledger(item: Item) -> int:
    """The stock as the sum of the item's ledger (what `stock_on_hand` caches)."""
    return StockMove.objects.filter(item=item).aggregate(n=Sum("quantity"))["n"] or 0
