"""Points exchanged for gift certificates and goods at the secretariat's counters, and given back.

Both run inside the exchange desk's transaction (the desk locks its items first, then these lock the
member's account), each in a savepoint so that a repeated idempotency key is read back instead of
breaking the caller's transaction. An exchange is never made on credit: no debt, ever.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from points import errors
from points.models import Entry, Programme
from points.services.ledger import (
    MAX_POINTS,
    Posting,
    check_whole,
    context,
    debit,
    expire_lapsed,
    holding_account,
    idempotent,
    lock_account,
    lock_accounts,
    lots_usable,
    member_check_usable,
    points_usable,
    save_account,
)
from points.services.purchases import restore_spent


def points_exchange(
    *,
    member: Member,
    programme: Programme,
    points: int,
    idempotency_key: str,
    staff=None,
    reason: str = "",
    occurred_at=None,
) -> Posting:
    """Take `points` from the member's account for an exchange, soonest-expiring lots first."""
    check_whole(points, low=1, high=MAX_POINTS, message=_("Points to exchange must be a positive whole number."))

    def post() -> Posting:
        with transaction.atomic():
            member_check_usable(member_id=member.pk)
            account = lock_account(member_id=member.pk, programme=programme)
            # Lapsed lots are not spendable, even if the nightly job has not run yet.
            expire_lapsed(account, today=timezone.localdate(), ctx=context())
            if account.balance < points:
                raise errors.InsufficientPoints(balance=account.balance)
            # A company's own points are for its stores, not for gift certificates.
            usable = points_usable(account, merchant_id=None)
            if usable < points:
                raise errors.not_usable_here(usable=usable, balance=account.balance, exchange=True)
            ctx = context(occurred_at=occurred_at, staff=staff, reason=reason)
            entry = ctx.entry(account=account, kind=Entry.Kind.EXCHANGE, points=-points, key=idempotency_key)
            debit(account, entry, points, usable=lots_usable(merchant_id=None))
            save_account(account)
            return Posting(account=account, entries=[entry])

    return idempotent(idempotency_key, post)


def points_exchange_return(
    *,
    entry: Entry,
    member_id: int,
    idempotency_key: str,
    staff=None,
    reason: str = "",
    occurred_at=None,
) -> Posting:
    """Give an exchange's points back (a void reversing it) to member_id (the exchange's member), into copies
    of the lots they came from, each with its original store and expiry."""
    if entry.kind != Entry.Kind.EXCHANGE:
        raise errors.InvalidOperation(_("Only an exchange can be given back here."))

    def post() -> Posting:
        with transaction.atomic():
            account = lock_accounts([entry.account_id])[entry.account_id]
            # The exchange's member now, who may have merged the member that exchanged into itself.
            account = holding_account(account, member_id=member_id)
            if Entry.objects.filter(reverses=entry).exists():
                raise errors.NothingToVoid()
            ctx = context(occurred_at=occurred_at, staff=staff, reason=reason)
            void = ctx.entry(
                account=account, kind=Entry.Kind.VOID, points=-entry.points, reverses=entry, key=idempotency_key
            )
            restore_spent(account, void, entry, -entry.points)
            save_account(account)
            return Posting(account=account, entries=[void])

    return idempotent(idempotency_key, post)
