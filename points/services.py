"""Every change of points goes through these services.

Locking discipline (what keeps balances right under concurrent tills):
an operation locks the card row(s) it acts through, then the account row(s),
each kind in primary-key order; lots and the cached balance of an account are
only ever changed while its row is locked. The database refuses what must
never be (a negative balance, a lot used beyond its size, a second entry with
one idempotency key), so a bug fails loudly instead of corrupting the ledger.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members import services as member_services
from members.models import Card, CardEvent, Member
from points import errors
from points.models import Account, Entry, Lot, LotUse, Participation, Programme
from stores.models import Store

# Larger purchase amounts are refused as input errors (a till typo, not a sale).
MAX_AMOUNT_YEN = 100_000_000
MAX_POINTS = 100_000_000
LOT_ORDER = ("expires_on", "earned_at", "id")


@dataclass(frozen=True)
class Posting:
    """What an operation wrote (or, when replayed, had written before)."""

    account: Account
    entries: list[Entry] = field(default_factory=list)
    replayed: bool = False

    @property
    def points(self) -> int:
        return sum(entry.points for entry in self.entries)

    @property
    def operation(self) -> uuid.UUID | None:
        return self.entries[0].operation if self.entries else None


@dataclass
class _Context:
    """Who and what caused an operation; copied onto each of its entries."""

    occurred_at: datetime.datetime
    recorded_at: datetime.datetime
    operation: uuid.UUID = field(default_factory=uuid.uuid4)
    card: Card | None = None
    store: Store | None = None
    terminal: object | None = None
    staff: object | None = None
    receipt_no: str = ""
    reason: str = ""

    def entry(self, *, account: Account, kind: str, points: int, key: str, **extra) -> Entry:
        return Entry.objects.create(
            account=account,
            kind=kind,
            points=points,
            idempotency_key=key,
            operation=self.operation,
            card=self.card,
            store=self.store,
            terminal=self.terminal,
            staff=self.staff,
            receipt_no=self.receipt_no,
            reason=self.reason,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            **extra,
        )


def _context(*, occurred_at=None, **kwargs) -> _Context:
    now = timezone.now()
    return _Context(occurred_at=occurred_at or now, recorded_at=now, **kwargs)


# --- rules --------------------------------------------------------------------


def expiry_date(*, programme: Programme, earned_at: datetime.datetime) -> datetime.date:
    """Valid until the end of the month `expiry_months` after the month of earning."""
    local = timezone.localtime(earned_at).date() if timezone.is_aware(earned_at) else earned_at.date()
    year, month = divmod(local.year * 12 + local.month - 1 + programme.expiry_months, 12)
    month += 1
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def earn_points_for(*, store: Store, amount_yen: int) -> int:
    """Base points for a receipt: the store's rate, rounded down per receipt."""
    return amount_yen * store.earn_rate_bp // 10_000


def _check_whole(value, *, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.InvalidAmount(message)
    return value


def programme_for_store(*, store: Store, programme: Programme | None = None, spending: bool = False) -> Programme:
    participations = Participation.objects.filter(store=store, programme__is_active=True).select_related("programme")
    if programme is not None:
        participations = participations.filter(programme=programme)
    found = list(participations[:2])
    if len(found) != 1:
        raise errors.StoreNotInProgramme()
    if spending and not found[0].accepts_spend:
        raise errors.SpendNotAccepted()
    return found[0].programme


# --- locking and idempotency ------------------------------------------------------


def _replay(key: str) -> Posting | None:
    first = Entry.objects.filter(idempotency_key=key).first()
    if first is None:
        return None
    entries = list(Entry.objects.filter(operation=first.operation).order_by("id"))
    return Posting(account=Account.objects.get(pk=first.account_id), entries=entries, replayed=True)


def _idempotent(key: str, post: Callable[[], Posting]) -> Posting:
    """Run `post` once per key: a retry gets back what the first call wrote."""
    done = _replay(key)
    if done is not None:
        return done
    try:
        return post()
    except IntegrityError:
        # Two calls with one key raced; the loser reads the winner's result.
        done = _replay(key)
        if done is None:
            raise
        return done


def _lock_card(card: Card) -> Card:
    # The card row alone: a join would be re-checked by PostgreSQL after the
    # wait, and a card moved to another member by a merge would vanish.
    locked = Card.objects.select_for_update().get(pk=card.pk)
    locked.member = Member.objects.get(pk=locked.member_id)
    if locked.status != Card.Status.ACTIVE:
        raise errors.CardNotUsable()
    if locked.member.status in (Member.Status.SUSPENDED, Member.Status.WITHDRAWN):
        raise errors.MemberNotUsable()
    return locked


def _lock_account(*, member_id: int, programme: Programme) -> Account:
    account, _created = Account.objects.select_for_update().get_or_create(member_id=member_id, programme=programme)
    return account


def _lock_accounts(ids: Iterable[int]) -> dict[int, Account]:
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def _save(account: Account) -> None:
    account.save(update_fields=["balance", "debt", "updated_at"])


# --- lots: the two primitives every operation is made of -----------------------------


def _credit(
    account: Account,
    entry: Entry,
    points: int,
    *,
    store: Store | None,
    earned_at,
    expires_on,
    origin: Lot | None = None,
) -> Lot:
    """Points come in as a lot; any debt on the account is repaid from it first."""
    repay = min(account.debt, points)
    lot = Lot.objects.create(
        account=account,
        entry=entry,
        store=store,
        origin=origin,
        points=points,
        remaining=points - repay,
        earned_at=earned_at,
        expires_on=expires_on,
    )
    if repay:
        LotUse.objects.create(entry=entry, lot=lot, points=repay)
    account.debt -= repay
    account.balance += points - repay
    return lot


def _debit(account: Account, entry: Entry, points: int, *, allow_debt: bool = False, first: Iterable[Lot] = ()) -> None:
    """Points go out, taken from the given lots first, then soonest-expiring first.

    What the lots cannot cover is refused, or, where allowed (a void of points
    already spent), held as debt for the next earnings to repay.
    """
    need = points
    changed: list[Lot] = []
    uses: list[LotUse] = []

    def take(lot: Lot) -> None:
        nonlocal need
        taken = min(lot.remaining, need)
        if taken > 0:
            lot.remaining -= taken
            need -= taken
            changed.append(lot)
            uses.append(LotUse(entry=entry, lot=lot, points=taken))

    first = list(first)
    for lot in first:
        take(lot)
    if need:
        others = Lot.objects.filter(account=account, remaining__gt=0).exclude(pk__in=[lot.pk for lot in first])
        for lot in others.order_by(*LOT_ORDER).iterator(chunk_size=200):
            take(lot)
            if not need:
                break
    if need and not allow_debt:
        raise errors.InsufficientPoints(balance=account.balance)
    Lot.objects.bulk_update(changed, ["remaining"])
    LotUse.objects.bulk_create(uses)
    account.balance -= points - need
    account.debt += need


def _expire_lapsed(account: Account, *, today: datetime.date, ctx: _Context) -> int:
    """Expire what is left of the account's lapsed lots (the account is locked)."""
    lapsed = list(Lot.objects.filter(account=account, remaining__gt=0, expires_on__lt=today).order_by(*LOT_ORDER))
    total = sum(lot.remaining for lot in lapsed)
    if not total:
        return 0
    entry = ctx.entry(
        account=account,
        kind=Entry.Kind.EXPIRE,
        points=-total,
        key=f"expire:{account.pk}:{lapsed[0].pk}:{today}",
    )
    _debit(account, entry, total, first=lapsed)
    return total


# --- purchases at a till -------------------------------------------------------------


def points_earn(
    *,
    card: Card,
    store: Store,
    amount_yen: int,
    idempotency_key: str,
    occurred_at=None,
    terminal=None,
    receipt_no: str = "",
    programme: Programme | None = None,
) -> Posting:
    """Earn points on a purchase at the store's rate. A purchase worth no points writes nothing."""
    _check_whole(
        amount_yen, low=0, high=MAX_AMOUNT_YEN, message=_("The purchase amount must be a whole number of yen.")
    )
    programme = programme_for_store(store=store, programme=programme)
    points = earn_points_for(store=store, amount_yen=amount_yen)

    def post() -> Posting:
        with transaction.atomic(durable=True):
            locked = _lock_card(card)
            account = _lock_account(member_id=locked.member_id, programme=programme)
            if not points:
                return Posting(account=account)
            ctx = _context(occurred_at=occurred_at, card=locked, store=store, terminal=terminal, receipt_no=receipt_no)
            entry = ctx.entry(
                account=account, kind=Entry.Kind.EARN, points=points, key=idempotency_key, amount_yen=amount_yen
            )
            _credit(
                account,
                entry,
                points,
                store=store,
                earned_at=ctx.occurred_at,
                expires_on=expiry_date(programme=programme, earned_at=ctx.occurred_at),
            )
            _save(account)
            return Posting(account=account, entries=[entry])

    return _idempotent(idempotency_key, post)


def points_spend(
    *,
    card: Card,
    store: Store,
    points: int,
    idempotency_key: str,
    occurred_at=None,
    terminal=None,
    receipt_no: str = "",
    amount_yen: int | None = None,
    programme: Programme | None = None,
) -> Posting:
    """Spend points (1 point = 1 yen) at a store; never more than the spendable balance."""
    _check_whole(points, low=1, high=MAX_POINTS, message=_("Points to spend must be a positive whole number."))
    if amount_yen is not None:
        _check_whole(
            amount_yen, low=0, high=MAX_AMOUNT_YEN, message=_("The purchase amount must be a whole number of yen.")
        )
    programme = programme_for_store(store=store, programme=programme, spending=True)

    def post() -> Posting:
        with transaction.atomic(durable=True):
            locked = _lock_card(card)
            account = _lock_account(member_id=locked.member_id, programme=programme)
            ctx = _context(occurred_at=occurred_at, card=locked, store=store, terminal=terminal, receipt_no=receipt_no)
            _expire_lapsed(account, today=timezone.localdate(), ctx=_context())
            if account.balance < points:
                raise errors.InsufficientPoints(balance=account.balance)
            entry = ctx.entry(
                account=account, kind=Entry.Kind.SPEND, points=-points, key=idempotency_key, amount_yen=amount_yen
            )
            _debit(account, entry, points)
            _save(account)
            return Posting(account=account, entries=[entry])

    return _idempotent(idempotency_key, post)


def _reversible(entry: Entry) -> list[Entry]:
    return list(
        Entry.objects.filter(
            operation=entry.operation, kind__in=[Entry.Kind.EARN, Entry.Kind.BONUS, Entry.Kind.SPEND]
        ).order_by("id")
    )


def _reverse_target(original: Entry, refunded_yen: int | None) -> int:
    """How many points of `original` should stand reversed once `refunded_yen` of it is refunded.

    Rounded against the member: earned points are taken back rounding up,
    spent points are given back rounding down.
    """
    size = abs(original.points)
    if refunded_yen is None or not original.amount_yen:
        return size
    if original.points > 0:
        return -(-size * refunded_yen // original.amount_yen)
    return size * refunded_yen // original.amount_yen


def points_void(
    *,
    entry: Entry,
    idempotency_key: str,
    refund_amount_yen: int | None = None,
    terminal=None,
    staff=None,
    reason: str = "",
    occurred_at=None,
) -> Posting:
    """Void a purchase's points (all of them), or refund part of the purchase.

    Earned points that were already spent are still taken back: what the
    lots cannot cover becomes debt. Spent points come back into the lots
    they were taken from, with those lots' store and expiry.
    """
    if refund_amount_yen is not None:
        _check_whole(
            refund_amount_yen,
            low=1,
            high=MAX_AMOUNT_YEN,
            message=_("The refund amount must be a positive whole number of yen."),
        )

    def post() -> Posting:
        with transaction.atomic(durable=True):
            originals = _reversible(entry)
            if not originals:
                raise errors.InvalidOperation(_("Only purchases can be voided."))
            account = _lock_accounts([originals[0].account_id])[originals[0].account_id]
            ctx = _context(
                occurred_at=occurred_at,
                card=originals[0].card,
                store=originals[0].store,
                terminal=terminal,
                staff=staff,
                receipt_no=originals[0].receipt_no,
                reason=reason,
            )
            written = []
            for number, original in enumerate(originals):
                refunded_before = Entry.objects.filter(reverses=original).aggregate(
                    y=Sum("amount_yen"), p=Sum("points")
                )
                refunded_yen = None
                this_refund = refund_amount_yen
                if refund_amount_yen is not None and original.amount_yen:
                    refunded_yen = (refunded_before["y"] or 0) + refund_amount_yen
                    if refunded_yen > original.amount_yen:
                        raise errors.InvalidAmount(_("The refund is larger than what remains of the purchase."))
                elif original.amount_yen:
                    this_refund = original.amount_yen - (refunded_before["y"] or 0)
                delta = _reverse_target(original, refunded_yen) - abs(refunded_before["p"] or 0)
                if delta <= 0:
                    continue
                sign = -1 if original.points > 0 else 1
                void = ctx.entry(
                    account=account,
                    kind=Entry.Kind.VOID,
                    points=sign * delta,
                    reverses=original,
                    key=idempotency_key if not written else f"{idempotency_key}/{number}",
                    amount_yen=this_refund,
                )
                if original.points > 0:
                    _debit(account, void, delta, allow_debt=True, first=original.lots.filter(remaining__gt=0))
                else:
                    _restore_spent(account, void, original, delta)
                written.append(void)
            if not written:
                raise errors.NothingToVoid()
            _save(account)
            return Posting(account=account, entries=written)

    return _idempotent(idempotency_key, post)


def _restore_spent(account: Account, void: Entry, spend: Entry, points: int) -> None:
    """Give spent points back into copies of the lots they came from, latest-expiring first."""
    restored = dict(Lot.objects.filter(entry__reverses=spend).values_list("origin").annotate(n=Sum("points")))
    for use in spend.lot_uses.select_related("lot").order_by("-lot__expires_on", "-lot__earned_at", "-lot_id"):
        give = min(points, use.points - restored.get(use.lot_id, 0))
        if give > 0:
            lot = use.lot
            _credit(
                account, void, give, store=lot.store, earned_at=lot.earned_at, expires_on=lot.expires_on, origin=lot
            )
            points -= give
        if not points:
            break


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
                _credit(
                    account,
                    entry,
                    points,
                    store=store,
                    earned_at=ctx.occurred_at,
                    expires_on=expiry_date(programme=programme, earned_at=ctx.occurred_at),
                )
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


def _transfer(source: Account, target: Account, ctx: _Context, key: str) -> list[Entry]:
    """Move everything of one account to another: its lots (keeping store and expiry) or its debt."""
    written = []
    if source.balance:
        lots = list(Lot.objects.filter(account=source, remaining__gt=0).order_by(*LOT_ORDER))
        sizes = [lot.remaining for lot in lots]
        out = ctx.entry(account=source, kind=Entry.Kind.TRANSFER, points=-source.balance, key=f"{key}:out")
        _debit(source, out, source.balance, first=lots)
        into = ctx.entry(account=target, kind=Entry.Kind.TRANSFER, points=sum(sizes), key=f"{key}:in")
        for lot, size in zip(lots, sizes, strict=True):
            _credit(target, into, size, store=lot.store, earned_at=lot.earned_at, expires_on=lot.expires_on, origin=lot)
        written += [out, into]
    elif source.debt:
        debt = source.debt
        out = ctx.entry(account=source, kind=Entry.Kind.TRANSFER, points=debt, key=f"{key}:out")
        _credit(source, out, debt, store=None, earned_at=ctx.occurred_at, expires_on=timezone.localdate())
        into = ctx.entry(account=target, kind=Entry.Kind.TRANSFER, points=-debt, key=f"{key}:in")
        _debit(target, into, debt, allow_debt=True)
        written += [out, into]
    _save(source)
    _save(target)
    return written


def _lock_cards_of(member_ids: Iterable[int]) -> list[Card]:
    return list(Card.objects.select_for_update().filter(member_id__in=set(member_ids)).order_by("pk"))


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
