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
    _check_whole,
    _context,
    _debit,
    _expire_lapsed,
    _idempotent,
    _lock_account,
    _lock_accounts,
    _save,
    member_check_usable,
)
from points.services.purchases import _restore_spent


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
    _check_whole(points, low=1, high=MAX_POINTS, message=_("Points to exchange must be a positive whole number."))

    def post() -> Posting:
        with transaction.atomic():
            member_check_usable(member_id=member.pk)
            account = _lock_account(member_id=member.pk, programme=programme)
            # Lapsed lots are not spendable, even if the nightly job has not run yet.
            _expire_lapsed(account, today=timezone.localdate(), ctx=_context())
            if account.balance < points:
                raise errors.InsufficientPoints(balance=account.balance)
            ctx = _context(occurred_at=occurred_at, staff=staff, reason=reason)
            entry = ctx.entry(account=account, kind=Entry.Kind.EXCHANGE, points=-points, key=idempotency_key)
            _debit(account, entry, points)
            _save(account)
            return Posting(account=account, entries=[entry])

    return _idempotent(idempotency_key, post)


def points_exchange_return(
    *,
    entry: Entry,
    idempotency_key: str,
    staff=None,
    reason: str = "",
    occurred_at=None,
) -> Posting:
    """Give an exchange's points back (a void reversing it), into copies of the lots they came from, each
    with its original store and expiry."""
    if entry.kind != Entry.Kind.EXCHANGE:
        raise errors.InvalidOperation(_("Only an exchange can be given back here."))

    def post() -> Posting:
        with transaction.atomic():
            account = _lock_accounts([entry.account_id])[entry.account_id]
            if Entry.objects.filter(reverses=entry).exists():
                raise errors.NothingToVoid()
            ctx = _context(occurred_at=occurred_at, staff=staff, reason=reason)
            void = ctx.entry(
                account=account, kind=Entry.Kind.VOID, points=-entry.points, reverses=entry, key=idempotency_key
            )
            _restore_spent(account, void, entry, -entry.points)
            _save(account)
            return Posting(account=account, entries=[void])

    return _idempotent(idempotency_key, post)
