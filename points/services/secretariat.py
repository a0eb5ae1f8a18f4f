"""What the secretariat does: manual adjustments, the nightly expiry, merges, card replacement, withdrawal."""

from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import services as member_services
from members.models import Card, CardEvent, Member
from points import errors
from points.models import Account, Entry, Lot, Programme

# Larger purchase amounts are refused as input errors (a till typo, not a sale).
from points.services.ledger import (
    MAX_POINTS,
    Posting,
    _check_whole,
    _Context,
    _context,
    _credit_issued,
    _debit,
    _expire_lapsed,
    _idempotent,
    _lock_account,
    _lock_accounts,
    _lock_cards_of,
    _save,
    _transfer,
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
    _check_whole(
        abs(points) if isinstance(points, int) else points,
        low=1,
        high=MAX_POINTS,
        message=_("Adjust by a non-zero whole number of points."),
    )
    key = idempotency_key or f"adjust:{uuid.uuid4()}"

    def post() -> Posting:
        with transaction.atomic(durable=True):
            account = _lock_account(member_id=member.pk, programme=programme)
            ctx = _context(store=store, staff=staff, reason=reason)
            if points < 0:
                _expire_lapsed(account, today=timezone.localdate(), ctx=_context())
                if account.balance < -points:
                    raise errors.InsufficientPoints(balance=account.balance)
            entry = ctx.entry(account=account, kind=Entry.Kind.ADJUST, points=points, key=key)
            if points > 0:
                _credit_issued(account, entry, points, store=store, earned_at=ctx.occurred_at)
            else:
                _debit(account, entry, -points)
            _save(account)
            return Posting(account=account, entries=[entry])

    return _idempotent(key, post)


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
            account = _lock_accounts([account_id])[account_id]
            expired = _expire_lapsed(account, today=today, ctx=_context())
            if expired:
                _save(account)
                accounts += 1
                points += expired
    return accounts, points


def _merge(*, source: Member, target: Member, staff, ctx: _Context) -> list[Entry]:
    """Move all of source's points and cards to target, then end source (inside a transaction)."""
    if source.pk == target.pk:
        raise errors.InvalidOperation(_("A member cannot be merged into itself."))
    if Member.Status.WITHDRAWN in (source.status, target.status):
        raise errors.InvalidOperation(_("A withdrawn member cannot be merged."))
    if source.is_registered and not target.is_registered:
        raise errors.InvalidOperation(
            _("Merge the unregistered card holder into the registered member, not the other way round.")
        )
    cards = [card for card in _lock_cards_of([source.pk, target.pk]) if card.member_id == source.pk]
    written = []
    for account in Account.objects.filter(member=source).select_related("programme").order_by("pk"):
        target_account, _created = Account.objects.get_or_create(member=target, programme=account.programme)
        locked = _lock_accounts([account.pk, target_account.pk])
        written += _transfer(
            locked[account.pk], locked[target_account.pk], ctx, key=f"merge:{source.pk}:{account.programme_id}"
        )
    for card in cards:
        Card.objects.filter(pk=card.pk).update(member=target)
        CardEvent.objects.create(
            card=card, member=target, kind=CardEvent.Kind.ATTACHED, staff=staff, note=f"merged from {source.pseudonym}"
        )
    member_services.member_erase(member=source, merged_into=target)
    return written


def member_merge(*, source: Member, target: Member, staff, reason: str = "") -> list[Entry]:
    """Two records of one person become one: points and cards move to target in one transaction."""
    with transaction.atomic(durable=True):
        _lock_cards_of([source.pk, target.pk])
        source = Member.objects.select_for_update().get(pk=source.pk)
        target = Member.objects.select_for_update().get(pk=target.pk)
        ctx = _context(staff=staff, reason=reason or _("member merge"))
        return _merge(source=source, target=target, staff=staff, ctx=ctx)


def card_replace(*, old_card: Card, new_number: str, new_card_type: str, staff, reason: str = "") -> Card:
    """A lost or broken card: the new card takes over, the old one stops working at once.

    Points belong to the member, so they follow the new card; if the new card
    had already collected points on its own (touched at a till before it was
    brought to the desk), they are merged into the member in the same transaction.
    """
    number = member_services.card_number_normalise(number=new_number, card_type=new_card_type)
    with transaction.atomic(durable=True):
        existing = member_services.card_find(number=number)
        member_ids = {old_card.member_id} | ({existing.member_id} if existing else set())
        locked = {card.pk: card for card in _lock_cards_of(member_ids)}
        old = locked.get(old_card.pk)
        if old is None or old.status != Card.Status.ACTIVE:
            raise errors.InvalidOperation(_("Only an active card can be replaced."))
        member = Member.objects.select_for_update().get(pk=old.member_id)
        if member.status == Member.Status.WITHDRAWN:
            raise errors.InvalidOperation(_("The card of a withdrawn member cannot be replaced."))
        if existing is None:
            new = member_services.card_create(number=number, card_type=new_card_type, member=member, staff=staff)
        else:
            new = locked[existing.pk]
            if new.pk == old.pk or new.status != Card.Status.ACTIVE:
                raise errors.InvalidOperation(_("The new card must be a different, active card."))
            if new.member_id != member.pk:
                other = Member.objects.select_for_update().get(pk=new.member_id)
                if other.is_registered:
                    raise errors.InvalidOperation(
                        _("The new card belongs to another registered member; merge the members first.")
                    )
                ctx = _context(staff=staff, reason=reason or _("card replacement"))
                _merge(source=other, target=member, staff=staff, ctx=ctx)
                new.refresh_from_db()
        Card.objects.filter(pk=old.pk).update(
            status=Card.Status.REPLACED, replaced_by=new, status_changed_at=timezone.now()
        )
        CardEvent.objects.create(
            card=old, member=member, kind=CardEvent.Kind.REPLACED, other_card=new, staff=staff, note=reason[:200]
        )
        CardEvent.objects.create(
            card=new, member=member, kind=CardEvent.Kind.ATTACHED, other_card=old, staff=staff, note=reason[:200]
        )
        return new


def member_withdraw(*, member: Member, staff, reason: str = "") -> Member:
    """退会: remaining points are forfeited (an expire entry), personal data erased, cards blocked.

    The ledger keeps its history under the member's pseudonym.
    """
    with transaction.atomic(durable=True):
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status == Member.Status.WITHDRAWN:
            raise errors.InvalidOperation(_("The member has already withdrawn."))
        _lock_cards_of([member.pk])
        ctx = _context(staff=staff, reason=reason or _("withdrawal"))
        accounts = _lock_accounts(Account.objects.filter(member=member).values_list("pk", flat=True))
        for account in accounts.values():
            if account.balance:
                entry = ctx.entry(
                    account=account,
                    kind=Entry.Kind.EXPIRE,
                    points=-account.balance,
                    key=f"withdraw:{member.pk}:{account.programme_id}",
                )
                _debit(account, entry, account.balance)
                _save(account)
        return member_services.member_erase(member=member)
