"""Points bought for money (前払式支払手段, the Payment Services Act): sold at a till or at the desk, 1 point
for 1 yen, into lots marked purchased, kept apart from free points everywhere they are shown. They are spent
like any points (in the order the programme says, `ledger.lot_order`) and never refunded in cash; the
base-date report (`points.selectors.purchased_unused`) states what is unused at each 3/31 and 9/30."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from members.models import Card, Member
from points import errors
from points.models import Account, Entry, Lot, Programme
from points.services.ledger import (
    LOT_ORDER,
    Posting,
    check_whole,
    context,
    credit_many,
    debit,
    expiry_date,
    idempotent,
    lock_account,
    member_check_usable,
    save_account,
)
from stores.models import Store

# One sale's largest amount: a till typo, not a purchase of points.
MAX_SALE_YEN = 1_000_000


def _check_sale(programme: Programme, amount_yen) -> None:
    if not programme.sells_points:
        raise errors.PointsNotSold()
    check_whole(
        amount_yen,
        low=1,
        high=MAX_SALE_YEN,
        message=_("Points are sold for 1 to %(most)s yen.") % {"most": f"{MAX_SALE_YEN:,}"},
    )


def points_post_sale(
    *,
    card: Card,
    account: Account,
    programme: Programme,
    amount_yen: int,
    idempotency_key: str,
    store: Store | None = None,
    occurred_at=None,
    terminal=None,
    staff=None,
    receipt_no: str = "",
) -> Posting:
    """Points bought for `amount_yen` (as many points), in the caller's transaction on a card and account it
    locked (the till's helper): a `purchase` entry and a purchased lot that expires by the programme's rule."""
    _check_sale(programme, amount_yen)
    ctx = context(
        occurred_at=occurred_at, card=card, store=store, terminal=terminal, staff=staff, receipt_no=receipt_no
    )
    entry = ctx.entry(
        account=account, kind=Entry.Kind.PURCHASE, points=amount_yen, key=idempotency_key, amount_yen=amount_yen
    )
    credit_many(
        account,
        [(entry, amount_yen)],
        store=store,
        earned_at=ctx.occurred_at,
        expires_on=expiry_date(programme=programme, earned_at=ctx.occurred_at),
        purchased=True,
    )
    save_account(account)
    return Posting(account=account, entries=[entry], card=card)


def points_refund_purchased(
    *, member: Member, programme: Programme, staff, idempotency_key: str | None = None
) -> Posting:
    """The programme has ended: the member's unused purchased points are paid back in cash (the only refund
    of them there is). They leave the account as one `refund` entry whose yen is what the desk pays; the
    free points stay as they are. Audited, once per key."""
    if programme.is_active:
        raise errors.InvalidOperation(_("Purchased points are refunded in cash only once the programme has ended."))
    key = idempotency_key or f"refund:{uuid.uuid4()}"

    def post() -> Posting:
        with transaction.atomic(durable=True):
            account = lock_account(member_id=member.pk, programme=programme)
            lots = list(Lot.objects.filter(account=account, remaining__gt=0, purchased=True).order_by(*LOT_ORDER))
            total = sum(lot.remaining for lot in lots)
            if not total:
                raise errors.InvalidOperation(_("The member holds no purchased points in this programme."))
            ctx = context(staff=staff, reason=_("Refund on the end of the programme"))
            entry = ctx.entry(account=account, kind=Entry.Kind.REFUND, points=-total, key=key, amount_yen=total)
            debit(account, entry, total, first=lots)
            save_account(account)
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("purchased points refunded"),
                detail={"points": total, "yen": total, "entry": entry.pk},
            )
            return Posting(account=account, entries=[entry])

    return idempotent(key, post)


def points_sell_at_desk(
    *, member: Member, programme: Programme, amount_yen: int, staff, idempotency_key: str | None = None
) -> Posting:
    """The desk sells points to a member for cash: audited, once per key."""
    _check_sale(programme, amount_yen)
    key = idempotency_key or f"sale:{uuid.uuid4()}"

    def post() -> Posting:
        with transaction.atomic(durable=True):
            member_check_usable(member_id=member.pk)
            account = lock_account(member_id=member.pk, programme=programme)
            posting = points_post_sale(
                card=None, account=account, programme=programme, amount_yen=amount_yen, idempotency_key=key, staff=staff
            )
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("points sold"),
                detail={"points": amount_yen, "yen": amount_yen, "entry": posting.entries[0].pk},
            )
            return posting

    return idempotent(key, post)
