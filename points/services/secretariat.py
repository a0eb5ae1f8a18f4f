"""What the secretariat does with points: manual adjustments, the nightly expiry, and what a merge or a withdrawal
(lifecycle.services) asks of the ledger."""

from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from members.models import Card, Member
from points import errors
from points.models import Account, Entry, Lot, Programme
from points.services.ledger import (
    MAX_POINTS,
    Posting,
    account_transfer,
    check_whole,
    context,
    credit_issued,
    debit,
    expire_lapsed,
    idempotent,
    lock_account,
    lock_accounts,
    lock_cards_of,
    save_account,
)
from stores.models import Store

# --- the secretariat's operations ---------------------------------------------------


def points_adjust(
    *,
    member: Member,
    programme: Programme,
    points: int,
    reason: str,
    staff,
    idempotency_key: str | None = None,
    store: Store | None = None,
) -> Posting:
    """A manual correction by staff, with a mandatory reason; a deduction cannot exceed the balance."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.InvalidOperation(_("A manual adjustment needs a reason."))
    if staff is None or not getattr(staff, "pk", None):
        raise errors.InvalidOperation(_("A manual adjustment must name the staff member who made it."))
    check_whole(
        abs(points) if isinstance(points, int) else points,
        low=1,
        high=MAX_POINTS,
        message=_("Adjust by a non-zero whole number of points."),
    )
    key = idempotency_key or f"adjust:{uuid.uuid4()}"

    def post() -> Posting:
        with transaction.atomic(durable=True):
            account = lock_account(member_id=member.pk, programme=programme)
            ctx = context(store=store, staff=staff, reason=reason)
            if points < 0:
                expire_lapsed(account, today=timezone.localdate(), ctx=context())
                if account.balance < -points:
                    raise errors.InsufficientPoints(balance=account.balance)
            entry = ctx.entry(account=account, kind=Entry.Kind.ADJUST, points=points, key=key)
            if points > 0:
                credit_issued(account, entry, points, store=store, earned_at=ctx.occurred_at)
            else:
                debit(account, entry, -points)
            save_account(account)
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("manual adjustment"),
                detail={"points": points, "entry": entry.pk, "reason": reason},
            )
            return Posting(account=account, entries=[entry])

    return idempotent(key, post)


def accounts_open(*, member: Member, programmes, staff) -> list[Account]:
    """The member joins the programmes (an empty account in each they have none in), as when staff of a
    company's programme register a member at its desk; in the caller's transaction, with an audit row for each
    account opened."""
    opened = []
    for programme in sorted(programmes, key=lambda programme: programme.pk):
        account, created = Account.objects.get_or_create(member=member, programme=programme)
        if created:
            audit_record(actor=staff, action=AuditEvent.Action.ADD, obj=account, summary=str(account))
            opened.append(account)
    return opened


def points_expire_lapsed(*, today: datetime.date | None = None) -> tuple[int, int]:
    """The nightly job: expire every lot whose validity ended before `today`.

    One short transaction per account, so tills are never blocked for long;
    running it twice expires nothing twice. Returns (accounts, points).
    """
    today = today or timezone.localdate()
    account_ids = list(
        Lot.objects.filter(remaining__gt=0, expires_on__lt=today).values_list("account_id", flat=True).distinct()
    )
    accounts = points = 0
    for account_id in account_ids:
        with transaction.atomic():
            account = lock_accounts([account_id])[account_id]
            expired = expire_lapsed(account, today=today, ctx=context())
            if expired:
                save_account(account)
                accounts += 1
                points += expired
    return accounts, points


# --- what the member's lifecycle (lifecycle.services) asks of the ledger, inside its transaction ----------


def cards_lock(*, member_ids) -> list[Card]:
    """Lock every card of these members, in primary-key order: the first lock of a lifecycle change, as a
    till's is."""
    return lock_cards_of(member_ids)


def accounts_transfer(*, source: Member, target: Member, staff, reason: str) -> list[Entry]:
    """Move every account of source to target's account in the same programme: its lots (keeping store and
    expiry) or its debt. Both members' accounts are locked together in primary-key order. Assumes the open
    transaction of the caller, which has locked both members' cards."""
    programmes = list(Account.objects.filter(member=source).values_list("programme_id", flat=True).order_by("pk"))
    for programme_id in programmes:
        Account.objects.get_or_create(member=target, programme_id=programme_id)
    ids = Account.objects.filter(member__in=[source.pk, target.pk], programme_id__in=programmes).values_list("pk")
    locked = lock_accounts(pk for (pk,) in ids)
    by_owner = {(account.member_id, account.programme_id): account for account in locked.values()}
    ctx = context(staff=staff, reason=reason)
    written = []
    for programme_id in programmes:
        written += account_transfer(
            by_owner[source.pk, programme_id],
            by_owner[target.pk, programme_id],
            ctx,
            key=f"merge:{source.pk}:{programme_id}",
        )
    return written


def accounts_forfeit(*, member: Member, staff, reason: str) -> int:
    """On withdrawal: every remaining point is forfeited (an expire entry per account); returns how many.
    Assumes the open transaction of the caller, which has locked the member's cards."""
    ctx = context(staff=staff, reason=reason)
    accounts = lock_accounts(Account.objects.filter(member=member).values_list("pk", flat=True))
    forfeited = 0
    for account in accounts.values():
        if account.balance:
            forfeited += account.balance
            entry = ctx.entry(
                account=account,
                kind=Entry.Kind.EXPIRE,
                points=-account.balance,
                key=f"withdraw:{member.pk}:{account.programme_id}",
            )
            debit(account, entry, account.balance)
            save_account(account)
    return forfeited
