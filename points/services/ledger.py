"""The ledger's primitives: results, context, rules, locks, idempotency, and lots in and out."""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError
from django.db.models import Q, Sum
from django.utils import timezone

from members.models import Card, Member
from points import errors, sql
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
    # The card as locked for the operation, with its member: callers need not load them again.
    card: Card | None = None

    @property
    def points(self) -> int:
        return sum(entry.points for entry in self.entries)

    @property
    def operation(self) -> uuid.UUID | None:
        return self.entries[0].operation if self.entries else None


@dataclass
class Context:
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
        entry = Entry(
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
        sql.entries_insert([entry])
        return entry


def context(*, occurred_at=None, **kwargs) -> Context:
    now = timezone.now()
    return Context(occurred_at=occurred_at or now, recorded_at=now, **kwargs)


# --- rules --------------------------------------------------------------------


def expiry_date(*, programme: Programme, earned_at: datetime.datetime) -> datetime.date:
    """Valid until the end of the month `expiry_months` after the month of earning."""
    local = timezone.localtime(earned_at).date() if timezone.is_aware(earned_at) else earned_at.date()
    year, month = divmod(local.year * 12 + local.month - 1 + programme.expiry_months, 12)
    month += 1
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def earn_points_for(*, store: Store, amount_yen: int, rate_bp: int | None = None) -> int:
    """Base points for a receipt: the store's rate (or its rate in the programme, `rate_bp`), rounded down per
    receipt."""
    return amount_yen * (store.earn_rate_bp if rate_bp is None else rate_bp) // 10_000


def check_whole(value, *, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.InvalidAmount(message)
    return value


# A store's participations, primary first: the one marked so, else the programme it joined first.
PARTICIPATION_ORDER = ("-is_primary", "joined_on", "programme_id")


def participations_of_store(*, store: Store) -> list[Participation]:
    """The store's participations in active programmes, primary first (with their programmes).

    Remembered on the store instance: a terminal request loads its store once and asks this several times
    (the API, then the service it calls); the till reads them with its terminal (`programmes_known`)."""
    memo = store.__dict__.get("_participations")
    if memo is None:
        memo = list(
            Participation.objects.filter(store=store, programme__is_active=True)
            .select_related("programme")
            .order_by(*PARTICIPATION_ORDER)
        )
        programmes_known(store=store, participations=memo)
    return memo


def programme_for_store(*, store: Store, programme: Programme | None = None, spending: bool = False) -> Programme:
    """The store's primary programme (or `programme`, checked to be one the store takes part in); refused if
    it takes part in none, or, when `spending`, if it does not accept points there."""
    participation = _participation_of_store(store=store, programme_id=programme.pk if programme else None)
    if spending and not participation.accepts_spend:
        raise errors.SpendNotAccepted()
    return participation.programme


def _participation_of_store(*, store: Store, programme_id: int | None = None) -> Participation:
    participations = participations_of_store(store=store)
    found = next((each for each in participations if programme_id is None or each.programme_id == programme_id), None)
    if found is None:
        raise errors.StoreNotInProgramme()
    return found


def programmes_known(*, store: Store, participations: list[Participation]) -> None:
    """Tell `programme_for_store` the store's active participations, primary first, read along with something
    else (the till reads them with its terminal), so that it asks the database nothing."""
    store.__dict__["_participations"] = list(participations)


def points_replay(*, idempotency_key: str) -> Posting | None:
    """What the operation with this key wrote, if it was written: a retry's answer."""
    return _replay(idempotency_key)


# --- locking and idempotency ------------------------------------------------------


def _replay(key: str) -> Posting | None:
    first = Entry.objects.filter(idempotency_key=key).first()
    if first is None:
        return None
    entries = list(Entry.objects.filter(operation=first.operation).order_by("id"))
    return Posting(account=Account.objects.get(pk=first.account_id), entries=entries, replayed=True)


def idempotent(key: str, post: Callable[[], Posting]) -> Posting:
    """Run `post` once per key: a retry gets back what the first call wrote.

    Optimistic, because first attempts are the common case: the unique key
    refuses a second entry, and only then (or when the retry is refused
    because the balance has moved on since) is the first result read back.
    """
    try:
        return post()
    except (IntegrityError, errors.LedgerError):
        done = _replay(key)
        if done is None:
            raise
        return done


def lock_card(card: Card) -> Card:
    """Lock the card's row (its member's stays free) and read, in the same statement, the member's columns
    that the checks, the receipt and the campaigns' conditions need: plain ones, so personal data stays
    encrypted."""
    locked = sql.card_lock(card_id=card.pk)
    if locked is None:
        raise Card.DoesNotExist(card.pk)
    return _usable(locked)


def points_card_lock(*, number_index: str, programme: Programme) -> tuple[Card | None, Account | None]:
    """Lock the card with this number (by its index) and its account in the programme, refusing a blocked
    card or a suspended member: the card and the account, or the card and None when it has no account in
    the programme yet, or (None, None) when no card has the number. For the till, which finds and locks
    both in one statement."""
    found = sql.card_and_account_lock(number_index=number_index, programme_id=programme.pk)
    if found is not None:
        card, account = found
        account.programme = programme
        return _usable(card), account
    card = sql.card_lock(number_index=number_index)
    return (None, None) if card is None else (_usable(card), None)


def _usable(locked: Card) -> Card:
    if locked.status != Card.Status.ACTIVE:
        raise errors.CardNotUsable()
    if locked.member.status in Member.REFUSED_STATUSES:
        raise errors.MemberNotUsable()
    return locked


def member_check_usable(*, member_id: int) -> None:
    """Refuse a suspended or ended membership (one query); a till's card lock checks the same."""
    status = Member.objects.filter(pk=member_id).values_list("status", flat=True).first()
    if status is None or status in Member.REFUSED_STATUSES:
        raise errors.MemberNotUsable()


def lock_account(*, member_id: int, programme: Programme) -> Account:
    account = sql.account_lock(member_id=member_id, programme_id=programme.pk)
    # The caller's programme, so that reading its rules later (bonus lots' expiry) costs no query.
    account.programme = programme
    return account


def points_account_lock(*, member_id: int, programme: Programme, new_member: bool = False) -> Account:
    """The member's account in the programme, locked after their card (opened if need be; `new_member`: the
    member was created in this transaction, so nobody else can have opened it)."""
    if new_member:
        return open_account(member_id=member_id, programme=programme)
    return lock_account(member_id=member_id, programme=programme)


def open_account(*, member_id: int, programme: Programme) -> Account:
    """The account of a member created in the caller's transaction (a card's first touch at a till)."""
    account = sql.account_open(member_id=member_id, programme_id=programme.pk)
    account.programme = programme
    return account


def holding_account(account: Account, *, member_id: int) -> Account:
    """The account that now holds what `account` (locked) held: itself, or, once a merge has moved its
    member's points to member_id, that member's account in the same programme, locked too. For a void or an
    exchange given back after a merge: what comes back goes to the surviving member."""
    if member_id == account.member_id:
        return account
    return lock_account(member_id=member_id, programme=Programme(pk=account.programme_id))


def lock_accounts(ids: Iterable[int]) -> dict[int, Account]:
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def save_account(account: Account) -> None:
    sql.account_save(account)


# --- lots: the two primitives every operation is made of -----------------------------


def credit(
    account: Account,
    entry: Entry,
    points: int,
    *,
    store: Store | None,
    earned_at,
    expires_on,
    origin: Lot | None = None,
) -> Lot:
    """Points come in as a lot; any debt on the account is repaid from it first. A lot made from another
    (`origin`) keeps its company restriction."""
    (lot,) = credit_many(
        account,
        [(entry, points)],
        store=store,
        earned_at=earned_at,
        expires_on=expires_on,
        origin=origin,
        merchant_id=origin.merchant_id if origin is not None else None,
        purchased=origin.purchased if origin is not None else False,
    )
    return lot


def credit_issued(account: Account, entry: Entry, points: int, *, store: Store | None, earned_at) -> Lot:
    """Points issued now (an earning, a bonus, an adjustment): a lot that expires by the rule of the
    account's programme (set on the account when it was locked)."""
    expires_on = expiry_date(programme=account.programme, earned_at=earned_at)
    return credit(account, entry, points, store=store, earned_at=earned_at, expires_on=expires_on)


def credit_many(
    account: Account,
    credits: list[tuple[Entry, int]],
    *,
    store: Store | None,
    earned_at,
    expires_on,
    origin: Lot | None = None,
    merchant_id: int | None = None,
    purchased: bool = False,
) -> list[Lot]:
    """Several entries' points in as lots of one store, earning time and expiry (a purchase's bonuses), in
    two statements at most; debt is repaid from them in order, each lot repaying what is left of it.
    `merchant_id`: the lots may be spent only at that company's stores."""
    lots, repaid = [], []
    for entry, points in credits:
        repay = min(account.debt, points)
        lots.append(
            Lot(
                account=account,
                entry=entry,
                store=store,
                origin=origin,
                merchant_id=merchant_id,
                purchased=purchased,
                points=points,
                remaining=points - repay,
                earned_at=earned_at,
                expires_on=expires_on,
            )
        )
        repaid.append(repay)
        account.debt -= repay
        account.balance += points - repay
    sql.lots_insert(lots)
    if any(repaid):
        sql.lot_uses_insert(
            [LotUse(entry=lot.entry, lot=lot, points=repay) for lot, repay in zip(lots, repaid, strict=True) if repay]
        )
    return lots


def lot_order(account: Account) -> tuple[str, ...]:
    """The order lots are spent in: the programme's kind first (free points, unless it says purchased ones),
    then soonest expiring first."""
    programme = account.programme
    return ("-purchased" if programme.spend_purchased_first else "purchased", *LOT_ORDER)


def lots_usable(*, merchant_id: int | None) -> Q:
    """The lots that may be spent at a store of this company (None: at no company's store, the exchange
    desk): those of the whole programme, and the company's own."""
    anywhere = Q(merchant__isnull=True)
    return anywhere if merchant_id is None else anywhere | Q(merchant_id=merchant_id)


def points_usable(account: Account, *, merchant_id: int | None) -> int:
    """How many of the account's points may be spent at a store of this company (one aggregate)."""
    elsewhere = (
        Lot.objects.filter(account=account, remaining__gt=0)
        .exclude(lots_usable(merchant_id=merchant_id))
        .aggregate(points=Sum("remaining"))["points"]
    )
    return account.balance - (elsewhere or 0)


def debit(
    account: Account,
    entry: Entry,
    points: int,
    *,
    allow_debt: bool = False,
    first: Iterable[Lot] = (),
    usable: Q | None = None,
) -> None:
    """Points go out, taken from the given lots first, then soonest-expiring first (of the `usable` lots
    only, when given: a spend at a store takes no other company's own points).

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
        if usable is not None:
            others = others.filter(usable)
        for lot in others.order_by(*lot_order(account)).iterator(chunk_size=200):
            take(lot)
            if not need:
                break
    if need and not allow_debt:
        raise errors.InsufficientPoints(balance=account.balance)
    Lot.objects.bulk_update(changed, ["remaining"])
    sql.lot_uses_insert(uses)
    account.balance -= points - need
    account.debt += need


def expire_lapsed(account: Account, *, today: datetime.date, ctx: Context) -> int:
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
    debit(account, entry, total, first=lapsed)
    return total


def account_transfer(source: Account, target: Account, ctx: Context, key: str) -> list[Entry]:
    """Move everything of one account to another: its lots (keeping store and expiry) or its debt."""
    written = []
    if source.balance:
        lots = list(Lot.objects.filter(account=source, remaining__gt=0).order_by(*LOT_ORDER))
        sizes = [lot.remaining for lot in lots]
        out = ctx.entry(account=source, kind=Entry.Kind.TRANSFER, points=-source.balance, key=f"{key}:out")
        debit(source, out, source.balance, first=lots)
        into = ctx.entry(account=target, kind=Entry.Kind.TRANSFER, points=sum(sizes), key=f"{key}:in")
        for lot, size in zip(lots, sizes, strict=True):
            credit(target, into, size, store=lot.store, earned_at=lot.earned_at, expires_on=lot.expires_on, origin=lot)
        written += [out, into]
    elif source.debt:
        debt = source.debt
        out = ctx.entry(account=source, kind=Entry.Kind.TRANSFER, points=debt, key=f"{key}:out")
        credit(source, out, debt, store=None, earned_at=ctx.occurred_at, expires_on=timezone.localdate())
        into = ctx.entry(account=target, kind=Entry.Kind.TRANSFER, points=-debt, key=f"{key}:in")
        debit(target, into, debt, allow_debt=True)
        written += [out, into]
    save_account(source)
    save_account(target)
    return written


def lock_cards_of(member_ids: Iterable[int]) -> list[Card]:
    return list(Card.objects.select_for_update().filter(member_id__in=set(member_ids)).order_by("pk"))
