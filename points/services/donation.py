"""Points donated to an organisation the secretariat registered (donations.services records the gift).

Like an exchange, a donation runs inside its caller's transaction (the donation service opens it), in a
savepoint so that a repeated idempotency key is read back instead of breaking that transaction, and is
never made on credit: no debt, ever. A company's own points go to its stores only, never to a donation.
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
    idempotent,
    lock_account,
    lots_usable,
    member_check_usable,
    points_usable,
    save_account,
)


def points_donate(
    *,
    member: Member,
    programme: Programme,
    points: int,
    idempotency_key: str,
    staff=None,
    reason: str = "",
    occurred_at=None,
) -> Posting:
    """Take `points` from the member's account for a donation, soonest-expiring lots first: one entry of
    kind `donation`. Assumes nothing about the caller's transaction; the same key again reads back the
    first donation's entry."""
    check_whole(points, low=1, high=MAX_POINTS, message=_("Donate a whole number of points, 1 or more."))

    def post() -> Posting:
        with transaction.atomic():
            member_check_usable(member_id=member.pk)
            account = lock_account(member_id=member.pk, programme=programme)
            # Lapsed lots are not spendable, even if the nightly job has not run yet.
            expire_lapsed(account, today=timezone.localdate(), ctx=context())
            if account.balance < points:
                raise errors.InsufficientPoints(
                    _("Not enough points to donate %(points)s: the balance is %(balance)s points.")
                    % {"points": f"{points:,}", "balance": f"{account.balance:,}"},
                    balance=account.balance,
                )
            # A company's own points are for its stores, not for donations.
            usable = points_usable(account, merchant_id=None)
            if usable < points:
                raise errors.not_usable_here(usable=usable, balance=account.balance, donation=True)
            ctx = context(occurred_at=occurred_at, staff=staff, reason=reason[:300])
            entry = ctx.entry(account=account, kind=Entry.Kind.DONATION, points=-points, key=idempotency_key)
            debit(account, entry, points, usable=lots_usable(merchant_id=None))
            save_account(account)
            return Posting(account=account, entries=[entry])

    return idempotent(idempotency_key, post)
