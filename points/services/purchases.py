"""What a till does: earn, spend, and void or refund a purchase."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Card, Member
from points import errors, sql
from points.models import Account, Entry, Funder, Lot, Programme, PurchaseCategory
from points.services.ledger import (
    MAX_AMOUNT_YEN,
    MAX_POINTS,
    Posting,
    check_whole,
    context,
    credit,
    credit_issued,
    credit_many,
    debit,
    earn_points_for,
    expire_lapsed,
    expiry_date,
    holding_account,
    idempotent,
    lock_account,
    lock_accounts,
    lock_card,
    lots_usable,
    member_check_usable,
    points_account_lock,
    points_usable,
    programme_for_store,
    save_account,
)
from stores.models import Store

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
    """Earn points on a purchase at the store's rate, on its own. A purchase worth no points writes nothing."""
    _check_earn_amount(amount_yen)
    programme = programme_for_store(store=store, programme=programme)

    def post() -> Posting:
        with transaction.atomic():
            return points_post_earn(
                card=lock_card(card),
                store=store,
                programme=programme,
                amount_yen=amount_yen,
                idempotency_key=idempotency_key,
                occurred_at=occurred_at,
                terminal=terminal,
                receipt_no=receipt_no,
            )

    return idempotent(idempotency_key, post)


def _check_earn_amount(amount_yen) -> None:
    check_whole(amount_yen, low=0, high=MAX_AMOUNT_YEN, message=_("The purchase amount must be a whole number of yen."))


def points_post_earn(
    *,
    card: Card,
    store: Store,
    programme: Programme,
    amount_yen: int,
    idempotency_key: str,
    occurred_at=None,
    terminal=None,
    receipt_no: str = "",
    account: Account | None = None,
    new_member: bool = False,
    rate_bp: int | None = None,
) -> Posting:
    """The earning's entry and lot, in the caller's transaction, on a card the caller locked
    (`points_card_lock`, with its `account` when it had one), or created with its member in this
    transaction (`new_member`): the till's helper. The account is locked after the card; a purchase worth
    no points writes nothing. `rate_bp`: the store's rate in this programme, if not its own."""
    _check_earn_amount(amount_yen)
    account = account or _account_for(card, programme, new_member=new_member)
    points = earn_points_for(store=store, amount_yen=amount_yen, rate_bp=rate_bp)
    if not points:
        return Posting(account=account, card=card)
    ctx = context(occurred_at=occurred_at, card=card, store=store, terminal=terminal, receipt_no=receipt_no)
    entry = ctx.entry(account=account, kind=Entry.Kind.EARN, points=points, key=idempotency_key, amount_yen=amount_yen)
    credit_issued(account, entry, points, store=store, earned_at=ctx.occurred_at)
    save_account(account)
    return Posting(account=account, entries=[entry], card=card)


def item_category_normalise(category: str) -> str:
    """An item category as kept and compared: half-width katakana and full-width letters made one form, as
    the coupon and campaign forms store them."""
    max_length = PurchaseCategory._meta.get_field("category").max_length
    return unicodedata.normalize("NFKC", category or "").strip()[:max_length]


def points_item_categories_record(*, posting: Posting, item_categories, occurred_at) -> frozenset[str]:
    """The item categories the till sent with an earning, kept with it (normalised, each once) for the
    coupons' and campaigns' item conditions; in the earning's transaction. A replayed earning records nothing
    again. Returns the categories as kept."""
    categories = frozenset(item_category_normalise(category) for category in item_categories) - {""}
    if categories and posting.entries and not posting.replayed:
        earn = posting.entries[0]
        sql.item_categories_insert(
            [
                PurchaseCategory(earn=earn, account=posting.account, category=category, occurred_at=occurred_at)
                for category in sorted(categories)
            ]
        )
    return categories


def _account_for(card: Card, programme: Programme, *, new_member: bool = False) -> Account:
    """The card's account in the programme, locked (opened if need be) after the card."""
    return points_account_lock(member_id=card.member_id, programme=programme, new_member=new_member)


@dataclass(frozen=True)
class BonusGrant:
    """One bonus to add to an earning: its points, who funds them, why (the receipt's line) and its key."""

    points: int
    funder: str
    reason: str
    idempotency_key: str
    # The company whose stores alone may take these points (a company's own campaign); None: anywhere.
    merchant_id: int | None = None


def points_bonuses(*, earn: Posting, grants: list[BonusGrant]) -> list[Entry]:
    """Bonus points on an earning, in its transaction (the account is still locked): per grant an entry of
    the same operation with its funder, and a lot like the earning's; written together. Whoever gives
    bonuses (campaigns, coupons, rallies) calls this."""
    for grant in grants:
        check_whole(
            grant.points, low=1, high=MAX_POINTS, message=_("A bonus must be a positive whole number of points.")
        )
    if not grants:
        return []
    first = earn.entries[0]
    account = earn.account
    entries = [
        Entry(
            account=account,
            kind=Entry.Kind.BONUS,
            points=grant.points,
            funder=grant.funder,
            idempotency_key=grant.idempotency_key,
            operation=first.operation,
            card=first.card,
            store=first.store,
            terminal=first.terminal,
            receipt_no=first.receipt_no,
            # The purchase's amount, so that a partial refund takes the bonus back in proportion too.
            amount_yen=first.amount_yen,
            reason=grant.reason[:300],
            occurred_at=first.occurred_at,
            recorded_at=first.recorded_at,
        )
        for grant in grants
    ]
    sql.entries_insert(entries)
    expires_on = expiry_date(programme=account.programme, earned_at=first.occurred_at)
    # One statement for the lots usable anywhere, one per company whose own points are among them.
    for merchant_id in dict.fromkeys(grant.merchant_id for grant in grants):
        credit_many(
            account,
            [
                (entry, entry.points)
                for entry, grant in zip(entries, grants, strict=True)
                if grant.merchant_id == merchant_id
            ],
            store=first.store,
            earned_at=first.occurred_at,
            expires_on=expires_on,
            merchant_id=merchant_id,
        )
    save_account(account)
    earn.entries.extend(entries)
    return entries


def points_bonus(*, earn: Posting, points: int, funder: str, reason: str, idempotency_key: str) -> Entry:
    """One bonus on an earning (see points_bonuses)."""
    grant = BonusGrant(points=points, funder=funder, reason=reason, idempotency_key=idempotency_key)
    return points_bonuses(earn=earn, grants=[grant])[0]


def points_coupon_bonus(
    *,
    member_id: int,
    programme: Programme,
    store: Store,
    points: int,
    funder: str,
    reason: str,
    idempotency_key: str,
    terminal=None,
    occurred_at=None,
    receipt_no: str = "",
) -> Posting:
    """Bonus points given on their own at a till (a receipt coupon presented), not on an earning: one
    bonus entry with its funder, and a lot issued by the store. The coupons app calls this."""
    check_whole(points, low=1, high=MAX_POINTS, message=_("A bonus must be a positive whole number of points."))

    def post() -> Posting:
        with transaction.atomic():
            member_check_usable(member_id=member_id)
            return points_grant(
                member_id=member_id,
                programme=programme,
                points=points,
                funder=funder,
                store=store,
                reason=reason,
                idempotency_key=idempotency_key,
                terminal=terminal,
                occurred_at=occurred_at,
                receipt_no=receipt_no,
            )

    return idempotent(idempotency_key, post)


def points_grant(
    *,
    member_id: int,
    programme: Programme,
    points: int,
    funder: str,
    store: Store | None,
    reason: str,
    idempotency_key: str,
    terminal=None,
    occurred_at=None,
    receipt_no: str = "",
) -> Posting:
    """Bonus points given on their own, in the caller's transaction: one bonus entry with its funder (a
    store-funded bonus names the paying store in `store`, which the close bills as it bills a campaign's), and
    a lot issued by that store (or by none) expiring by the programme's rule. The member's account is locked,
    opened if they have none. The caller has checked that the member may receive points; a second grant with
    one key is refused by the database (IntegrityError), which rolls the caller's transaction back."""
    check_whole(points, low=1, high=MAX_POINTS, message=_("A bonus must be a positive whole number of points."))
    if funder == Funder.STORE and store is None:
        raise errors.InvalidOperation(_("Points a store pays for must name the store."))
    account = lock_account(member_id=member_id, programme=programme)
    ctx = context(occurred_at=occurred_at, store=store, terminal=terminal, receipt_no=receipt_no, reason=reason[:300])
    entry = ctx.entry(account=account, kind=Entry.Kind.BONUS, points=points, key=idempotency_key, funder=funder)
    credit_issued(account, entry, points, store=store, earned_at=ctx.occurred_at)
    save_account(account)
    return Posting(account=account, entries=[entry])


def points_take_back(*, entry: Entry, points: int, idempotency_key: str, reason: str = "", occurred_at=None) -> Posting:
    """Take back part or all of a bonus given on its own (points_grant), in the caller's transaction: a void
    entry reversing it, taken from what is left of the bonus's lot first, then the account's others, the
    rest held as debt when they were spent (as a void of a purchase does). The store the bonus named is
    credited back by the close, as for any void of a store-funded bonus. Never more than what is still
    unreversed of it; a second call with the key changes nothing."""
    check_whole(points, low=1, high=MAX_POINTS, message=_("Points to take back must be a positive whole number."))
    if entry.kind != Entry.Kind.BONUS or entry.card_id is not None:
        raise errors.InvalidOperation(_("Only a bonus given on its own can be taken back."))

    def post() -> Posting:
        with transaction.atomic():
            account = lock_accounts([entry.account_id])[entry.account_id]
            # A merge since moved the member's points to another member: take them back there.
            account = holding_account(account, member_id=_surviving_member(account.member_id))
            already = -(Entry.objects.filter(reverses=entry).aggregate(p=Sum("points"))["p"] or 0)
            if points > entry.points - already:
                raise errors.InvalidAmount(_("More points than remain of the bonus."))
            ctx = context(occurred_at=occurred_at, store=entry.store, reason=reason[:300])
            void = ctx.entry(account=account, kind=Entry.Kind.VOID, points=-points, reverses=entry, key=idempotency_key)
            debit(account, void, points, allow_debt=True, first=_lots_of(entry, account))
            save_account(account)
            return Posting(account=account, entries=[void])

    return idempotent(idempotency_key, post)


def _surviving_member(member_id: int) -> int:
    """The member who holds a member's points now: themselves, or whom they were merged into (followed)."""
    seen = {member_id}
    while (merged := Member.objects.filter(pk=member_id).values_list("merged_into", flat=True).first()) is not None:
        if merged in seen:
            break
        seen.add(merged)
        member_id = merged
    return member_id


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
    """Spend points (1 point = 1 yen) at a store, on their own; never more than the spendable balance."""
    _check_spend(points, amount_yen)
    programme = programme_for_store(store=store, programme=programme, spending=True)

    def post() -> Posting:
        with transaction.atomic():
            return points_post_spend(
                card=lock_card(card),
                store=store,
                programme=programme,
                points=points,
                idempotency_key=idempotency_key,
                occurred_at=occurred_at,
                terminal=terminal,
                receipt_no=receipt_no,
                amount_yen=amount_yen,
            )

    return idempotent(idempotency_key, post)


def _check_spend(points, amount_yen) -> None:
    check_whole(points, low=1, high=MAX_POINTS, message=_("Points to spend must be a positive whole number."))
    if amount_yen is not None:
        check_whole(
            amount_yen, low=0, high=MAX_AMOUNT_YEN, message=_("The purchase amount must be a whole number of yen.")
        )


def points_post_spend(
    *,
    card: Card,
    store: Store,
    programme: Programme,
    points: int,
    idempotency_key: str,
    occurred_at=None,
    terminal=None,
    receipt_no: str = "",
    amount_yen: int | None = None,
    account: Account | None = None,
) -> Posting:
    """The spend's entry, in the caller's transaction, on a card the caller locked (`points_card_lock`, with
    its `account` when it had one): the till's helper. Lapsed lots are expired first (that stands even
    when the spend is then refused)."""
    _check_spend(points, amount_yen)
    account = account or _account_for(card, programme)
    ctx = context(occurred_at=occurred_at, card=card, store=store, terminal=terminal, receipt_no=receipt_no)
    expire_lapsed(account, today=timezone.localdate(), ctx=context())
    if account.balance < points:
        raise errors.InsufficientPoints(balance=account.balance)
    # A company's own points (its campaign's) are spent only at its stores: refused before anything is written.
    usable = points_usable(account, merchant_id=store.merchant_id)
    if usable < points:
        raise errors.not_usable_here(usable=usable, balance=account.balance)
    entry = ctx.entry(
        account=account, kind=Entry.Kind.SPEND, points=-points, key=idempotency_key, amount_yen=amount_yen
    )
    debit(account, entry, points, usable=lots_usable(merchant_id=store.merchant_id))
    save_account(account)
    return Posting(account=account, entries=[entry], card=card)


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
        check_whole(
            refund_amount_yen,
            low=1,
            high=MAX_AMOUNT_YEN,
            message=_("The refund amount must be a positive whole number of yen."),
        )

    def post() -> Posting:
        with transaction.atomic():
            originals = _reversible(entry)
            if not originals:
                raise errors.InvalidOperation(_("Only purchases can be voided."))
            # Card, then account, like every till operation: locking only the
            # account would deadlock against an earn on the same card.
            holder = None
            if originals[0].card_id:
                holder = (
                    Card.objects.select_for_update().values_list("member_id", flat=True).get(pk=originals[0].card_id)
                )
            account = lock_accounts([originals[0].account_id])[originals[0].account_id]
            # A merge since the purchase moved its points, and its card, to another member: reverse there.
            account = holding_account(account, member_id=holder or account.member_id)
            ctx = context(
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
                    debit(account, void, delta, allow_debt=True, first=_lots_of(original, account))
                else:
                    restore_spent(account, void, original, delta)
                written.append(void)
            if not written:
                raise errors.NothingToVoid()
            save_account(account)
            return Posting(account=account, entries=written)

    return idempotent(idempotency_key, post)


def _lots_of(earn: Entry, account: Account):
    """What is left of the lots an earning issued, in the account that holds them now (a merge moves them
    into copies that name their origin)."""
    if account.pk == earn.account_id:
        return earn.lots.filter(remaining__gt=0)
    return Lot.objects.filter(account=account, origin__entry=earn, remaining__gt=0)


def restore_spent(account: Account, void: Entry, spend: Entry, points: int) -> None:
    """Give spent points back into copies of the lots they came from, latest-expiring first."""
    restored = dict(Lot.objects.filter(entry__reverses=spend).values_list("origin").annotate(n=Sum("points")))
    for use in spend.lot_uses.select_related("lot").order_by("-lot__expires_on", "-lot__earned_at", "-lot_id"):
        give = min(points, use.points - restored.get(use.lot_id, 0))
        if give > 0:
            lot = use.lot
            credit(account, void, give, store=lot.store, earned_at=lot.earned_at, expires_on=lot.expires_on, origin=lot)
            points -= give
        if not points:
            break
