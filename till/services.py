"""The till: what a terminal asks for, composed once for every caller.

The terminal API's views and its offline batch translate JSON to these calls and their results back; the
benchmark, the simulator (through the API) and the tests call the same functions, so that the steps of a
purchase run in one order everywhere. The steps, and why in this order:

1. The terminal, with its store, the store's active programmes (primary first) and whether their running
   promotions changed, read in one statement (`till_terminal`): a revoked terminal is refused at its very
   next request, on every server.
2. Checks that write nothing: the card number's form, the transaction's time. A refusal leaves the
   caller's transaction usable, so the API stores it as the answer to replay.
3. The card, found by its number's index and locked in one statement with its account (card first, as
   every till operation locks them, so two tills on one card queue at the card), with its member's plain
   columns; an unknown card is created on the spot with its member (the first touch at a till makes the
   card), and its account opened.
4. The earning's entry and lot, and the balance (`points_post_earn`); at a store in several programmes, in
   each of them, at its rate there, with steps 5 and 6 per programme (its account locked after the card,
   in the order of the store's programmes, primary first). The primary programme's entries carry the
   request's key, another programme's the key and "@" its code.
5. What a purchase brings besides its points, in EARN_STEPS' order (see there): the rank's extra points,
   coupons, rally stamps, campaign bonuses. Adding a step (QR points, offers) is one function added to that
   tuple.
6. The receipt: the balance as written, the points expiring soon, and in a programme with ranks the
   member's rank with what remains to the next one.

Inside `till_request()` (the terminal API's transaction, which also holds the request's idempotency
record, so that the answer and the entries commit together) an operation writes straight into the
caller's transaction; elsewhere it runs in a transaction (or savepoint) of its own, where a second call
with the same key gets back what the first call wrote.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.services import campaigns_after_earn
from common.snapshots import snapshots_checked
from coupons.models import Coupon
from coupons.services import coupon_redeem, coupons_after_earn, coupons_after_void
from members.models import Card
from members.services import CardNumberError, card_create, card_number_index, card_number_normalise
from offers.services import offers_after_earn, offers_after_void
from points.errors import LedgerError, StoreNotInProgramme
from points.models import Account, Entry, Participation, Programme
from points.selectors import lots_expiring, purchased_balance
from points.services import (
    Posting,
    participations_of_store,
    points_account_lock,
    points_card_lock,
    points_item_categories_record,
    points_post_earn,
    points_post_sale,
    points_post_spend,
    points_replay,
    points_usable,
    points_void,
    programme_for_store,
    programmes_known,
)
from rallies.services import rallies_after_earn, rallies_after_void
from ranks.models import Rank
from ranks.services import Standing, rank_after_earn, rank_standing
from stores.models import Store, Terminal
from stores.selectors import terminal_secret_hash
from till import errors, sql

# The receipt lists points expiring within this many days.
EXPIRING_WITHIN_DAYS = 92
_request = threading.local()


@dataclass
class ProgrammeLine:
    """One programme's part of a receipt or a card lookup: its points this time, balance, points expiring
    soon and the member's rank in it."""

    programme: Programme
    posting: Posting | None
    account: Account | None
    expiring: list[dict]
    standing: Standing | None = None
    # How many of the balance may be spent at this store (a card lookup, a spend); None where not asked.
    usable_here: int | None = None
    # How many of the balance were bought for money, in a programme that sells points (else None).
    purchased: int | None = None


@dataclass
class Receipt:
    """What the receipt prints for one operation: a line per programme (the primary one first, whose
    posting, expiring points and rank are the receipt's own), the card as locked (with its member's plain
    columns), and what came with it."""

    lines: list[ProgrammeLine]
    card: Card
    created: bool = False
    coupons: list[Coupon] = field(default_factory=list)
    withdrawn: list[Coupon] = field(default_factory=list)
    rally: list[dict] = field(default_factory=list)

    @property
    def posting(self) -> Posting:
        return self.lines[0].posting

    @property
    def expiring(self) -> list[dict]:
        return self.lines[0].expiring

    @property
    def standing(self) -> Standing | None:
        return self.lines[0].standing

    @property
    def registered(self) -> bool:
        return self.card.member.is_registered


@dataclass
class Lookup:
    """A card as the store sees it: a line per programme of the store (none for an unknown card), the
    primary one first, whose account, expiring points and rank are the lookup's own."""

    card: Card | None
    number: str
    lines: list[ProgrammeLine] = field(default_factory=list)

    @property
    def account(self) -> Account | None:
        return self.lines[0].account if self.lines else None

    @property
    def expiring(self) -> list[dict]:
        return self.lines[0].expiring if self.lines else []

    @property
    def standing(self) -> Standing | None:
        return self.lines[0].standing if self.lines else None


@dataclass
class Earning:
    """An earning on its way through EARN_STEPS: what each step reads, and what it adds for the receipt."""

    posting: Posting
    store: Store
    programme: Programme
    amount_yen: int
    occurred_at: datetime.datetime
    item_categories: frozenset[str]
    coupons: list[Coupon] = field(default_factory=list)
    rally: list[dict] = field(default_factory=list)
    rank: Rank | None = None


# --- the steps of an earning after its own entry ----------------------------------------------


def _items(earning: Earning) -> None:
    """The purchase's item categories, kept with it (normalised) for the item conditions of the steps after."""
    earning.item_categories = points_item_categories_record(
        posting=earning.posting, item_categories=earning.item_categories, occurred_at=earning.occurred_at
    )


def _ranks(earning: Earning) -> None:
    """The member's rank's extra points (and, in an "at once" programme, a rank reached now); before the
    campaigns, whose rank condition reads it."""
    earning.rank = rank_after_earn(posting=earning.posting, programme=earning.programme, amount_yen=earning.amount_yen)


def _coupons(earning: Earning) -> None:
    """Receipt coupons, counting this purchase (and its item categories) in the member's history."""
    earning.coupons = coupons_after_earn(
        posting=earning.posting,
        store=earning.store,
        occurred_at=earning.occurred_at,
        item_categories=earning.item_categories,
    )


def _rallies(earning: Earning) -> None:
    """Rally stamps; a goal reached gives its bonus on this purchase, before the receipt is made."""
    earning.rally = rallies_after_earn(
        posting=earning.posting, store=earning.store, amount_yen=earning.amount_yen, occurred_at=earning.occurred_at
    )


def _campaigns(earning: Earning) -> None:
    """Campaign bonuses, last: a budgeted campaign stays locked from its bonus to the commit, so the
    shorter that is, the less concurrent earnings wait for each other."""
    campaigns_after_earn(
        posting=earning.posting,
        store=earning.store,
        amount_yen=earning.amount_yen,
        occurred_at=earning.occurred_at,
        programme=earning.programme,
        item_categories=earning.item_categories,
        rank=earning.rank,
    )


def _offers(earning: Earning) -> None:
    """Card-linked offers the member activated that the purchase meets: each qualifies once (by the earn
    entry), within its budget and the member's limit, and is paid after its waiting period."""
    offers_after_earn(
        posting=earning.posting,
        store=earning.store,
        programme=earning.programme,
        amount_yen=earning.amount_yen,
        occurred_at=earning.occurred_at,
    )


EARN_STEPS = (_items, _ranks, _coupons, _rallies, _offers, _campaigns)


# --- the terminal --------------------------------------------------------------------------------


def till_terminal(*, secret: str) -> Terminal | None:
    """The active terminal holding this secret, with its store and the store's active programmes (one
    statement); None when the secret is unknown, replaced or revoked."""
    if not secret:
        return None
    found = sql.terminal_by_secret(terminal_secret_hash(secret))
    if found is None:
        return None
    terminal, participations, versions = found
    programmes_known(store=terminal.store, participations=participations)
    # Whether each programme's running campaigns, coupon templates and rallies changed, asked with the
    # terminal: an earning then sends no question of its own.
    terminal.promotion_versions = versions
    return terminal


# --- what a terminal asks ------------------------------------------------------------------------


def till_card_lookup(*, terminal: Terminal, card_type: str, number: str) -> Lookup:
    """A card's balance and expiring points as the terminal's store sees them (nothing is written)."""
    number = _normalised(card_type, number)
    card = (
        Card.objects.select_related("member")
        .only("id", "member_id", "card_type", "number_last4", "status", "member__status")
        .filter(number_bidx=card_number_index(number))
        .first()
    )
    if card is not None and card.card_type != card_type:
        card = None
    participations = participations_of_store(store=terminal.store)
    if not participations:
        raise StoreNotInProgramme()
    lines = []
    if card is not None:
        accounts = {
            account.programme_id: account
            for account in Account.objects.filter(
                member_id=card.member_id, programme__in=[each.programme_id for each in participations]
            )
        }
        for participation in participations:
            account = accounts.get(participation.programme_id)
            standing = rank_standing(member_id=card.member_id, programme=participation.programme)
            usable = points_usable(account, merchant_id=terminal.store.merchant_id) if account else 0
            line = ProgrammeLine(participation.programme, None, account, _expiring(account), standing, usable)
            line.purchased = _purchased(participation.programme, account)
            lines.append(line)
    return Lookup(card=card, number=number, lines=lines)


def till_earn(
    *,
    terminal: Terminal,
    card_type: str,
    number: str,
    amount_yen: int,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    receipt_no: str = "",
    item_categories: frozenset[str] = frozenset(),
) -> Receipt:
    """Points on a purchase at the terminal's store, in each programme it takes part in, with everything that
    comes with them (see the module's steps); a purchase worth no points writes nothing but a card seen for
    the first time."""
    store = terminal.store
    participations = _participations_and_time(terminal, occurred_at)
    occurred_at = occurred_at or timezone.now()
    number = _normalised(card_type, number)
    categories = frozenset(item_categories)

    def run() -> Receipt:
        card, account, created = _till_card(card_type, number, participations[0].programme, store)
        # Whether the running campaigns, coupon templates and rallies changed: asked with the terminal, or
        # else here in one question for all. The terminal's answer serves its request's first earning only:
        # a batch's later items ask afresh.
        versions = terminal.__dict__.pop("promotion_versions", {})
        lines, coupons, rally = [], [], []
        for participation in participations:
            programme = participation.programme
            posting = points_post_earn(
                card=card,
                account=account if participation is participations[0] else None,
                store=store,
                programme=programme,
                amount_yen=amount_yen,
                idempotency_key=_programme_key(idempotency_key, participation, participations),
                occurred_at=occurred_at,
                terminal=terminal,
                receipt_no=receipt_no,
                new_member=created,
                rate_bp=participation.earn_rate_bp,
            )
            if posting.entries:
                earning = Earning(posting, store, programme, amount_yen, occurred_at, categories)
                with snapshots_checked(programme.pk, versions.get(programme.pk)):
                    for step in EARN_STEPS:
                        step(earning)
                    # The ladder's question is answered with the others: a programme without ranks asks nothing.
                    line = _line(programme, posting)
                coupons += earning.coupons
                rally += earning.rally
            else:
                line = _line(programme, posting)
            lines.append(line)
        return Receipt(lines, card, created=created, coupons=coupons, rally=rally)

    return _once(idempotency_key, run, participations)


def till_spend(
    *,
    terminal: Terminal,
    card_type: str,
    number: str,
    points: int,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    receipt_no: str = "",
    amount_yen: int | None = None,
    programme: Programme | None = None,
) -> Receipt:
    """Points spent at the terminal's store, in `programme` (one the store takes part in; its primary one when
    None); never more than the card's spendable balance there."""
    store = terminal.store
    programme, occurred_at = _programme_and_time(terminal, occurred_at, spending=True, programme=programme)
    number = _normalised(card_type, number)

    def run() -> Receipt:
        card, account = points_card_lock(number_index=card_number_index(number), programme=programme)
        if card is None or card.card_type != card_type:
            raise errors.CardNotFound()
        posting = points_post_spend(
            card=card,
            account=account,
            store=store,
            programme=programme,
            points=points,
            idempotency_key=idempotency_key,
            occurred_at=occurred_at,
            terminal=terminal,
            receipt_no=receipt_no,
            amount_yen=amount_yen,
        )
        line = _line(programme, posting)
        line.usable_here = points_usable(posting.account, merchant_id=store.merchant_id)
        return Receipt([line], card)

    return _once(idempotency_key, run)


def till_sell_points(
    *,
    terminal: Terminal,
    card_type: str,
    number: str,
    amount_yen: int,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    receipt_no: str = "",
    programme: Programme | None = None,
) -> Receipt:
    """Points bought for money at the terminal's store (1 point = 1 yen), in `programme` or the store's
    primary one, which must sell points; a card seen for the first time is made on the spot, as at an earn.
    The sale is final: the till cannot void it (purchased points are never refunded in cash)."""
    store = terminal.store
    programme, occurred_at = _programme_and_time(terminal, occurred_at, programme=programme)
    number = _normalised(card_type, number)

    def run() -> Receipt:
        card, account, created = _till_card(card_type, number, programme, store)
        if account is None:
            account = points_account_lock(member_id=card.member_id, programme=programme, new_member=created)
        posting = points_post_sale(
            card=card,
            account=account,
            programme=programme,
            amount_yen=amount_yen,
            idempotency_key=idempotency_key,
            store=store,
            occurred_at=occurred_at,
            terminal=terminal,
            receipt_no=receipt_no,
        )
        return Receipt([_line(programme, posting)], card, created=created)

    return _once(idempotency_key, run)


def till_purchase(*, terminal: Terminal, transaction_id=None, idempotency_key: str | None = None) -> Entry:
    """The first entry of a purchase at the terminal's store, by its transaction id or by the ledger key of
    the request that made it."""
    lookup = {"operation": transaction_id} if transaction_id is not None else {"idempotency_key": idempotency_key}
    original = (
        Entry.objects.filter(
            **lookup, store=terminal.store, kind__in=[Entry.Kind.EARN, Entry.Kind.BONUS, Entry.Kind.SPEND]
        )
        .select_related("card__member")
        .order_by("id")
        .first()
    )
    if original is None:
        raise errors.TransactionNotFound()
    return original


def till_void(
    *,
    terminal: Terminal,
    original: Entry,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    refund_amount_yen: int | None = None,
) -> Receipt:
    """Void a purchase, or refund part of it: its points back (points_void) in every programme it earned in,
    then what it brought, its rally stamps and its unused coupons, taken back with it."""
    _programme, occurred_at = _programme_and_time(terminal, occurred_at)
    participations = participations_of_store(store=terminal.store)

    def run() -> Receipt:
        lines, rally, withdrawn = [], [], []
        for each in _purchase_in_each_programme(original, participations):
            posting = points_void(
                entry=each,
                idempotency_key=idempotency_key
                if each is original
                else f"{idempotency_key}@{each.account.programme.code}",
                refund_amount_yen=refund_amount_yen,
                terminal=terminal,
                occurred_at=occurred_at,
            )
            rally += rallies_after_void(original_entry=each)
            withdrawn += coupons_after_void(original_entry=each)
            offers_after_void(original_entry=each, refund_amount_yen=refund_amount_yen)
            lines.append(_line(_programme_of(posting, participations), posting))
        return Receipt(lines, original.card, rally=rally, withdrawn=withdrawn)

    with _transaction():
        return run()


def _purchase_in_each_programme(original: Entry, participations: list[Participation]) -> list[Entry]:
    """The purchase's first entry in each programme it earned in: the one given, then its siblings in the
    store's other programmes (their keys are the purchase's and "@" the programme's code)."""
    if original.kind == Entry.Kind.SPEND or len(participations) < 2:
        return [original]
    base = original.idempotency_key.split("@")[0]
    keys = [base, *(f"{base}@{each.programme.code}" for each in participations)]
    siblings = (
        Entry.objects.filter(idempotency_key__in=keys, kind=Entry.Kind.EARN)
        .exclude(operation=original.operation)
        .select_related("account__programme", "card__member")
        .order_by("id")
    )
    return [original, *siblings]


def till_redeem(
    *,
    terminal: Terminal,
    code: str,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    receipt_no: str = "",
) -> tuple[Coupon, int | None]:
    """Redeem a receipt coupon at the terminal's store; returns it and, for a bonus-points coupon, the
    balance its points went to."""
    _programme, occurred_at = _programme_and_time(terminal, occurred_at)
    coupon = coupon_redeem(
        code=code, terminal=terminal, idempotency_key=idempotency_key, occurred_at=occurred_at, receipt_no=receipt_no
    )
    bonus = coupon.bonus
    balance = Account.objects.values_list("balance", flat=True).get(pk=bonus.account_id) if bonus else None
    return coupon, balance


# --- the pieces ------------------------------------------------------------------------------


def _normalised(card_type: str, number: str) -> str:
    if card_type not in Card.CardType.values:
        raise errors.InvalidCard()
    try:
        return card_number_normalise(number=number, card_type=card_type)
    except CardNumberError as error:
        raise errors.InvalidCard(str(error)) from None


def _programme_and_time(
    terminal: Terminal,
    occurred_at: datetime.datetime | None,
    *,
    spending: bool = False,
    programme: Programme | None = None,
) -> tuple[Programme, datetime.datetime]:
    """The programme at the terminal's store (`programme`, else the store's primary one; refused if the store
    takes no part in it, or accepts no spending), and the time of the transaction (now if the till sent
    none), checked against the programme's rules."""
    programme = programme_for_store(store=terminal.store, spending=spending, programme=programme)
    occurred_at = occurred_at or timezone.now()
    _check_time(occurred_at, programme)
    return programme, occurred_at


def _participations_and_time(terminal: Terminal, occurred_at: datetime.datetime | None) -> list[Participation]:
    """The store's participations, primary first (refused if it takes part in none), with the transaction's
    time checked against each programme's rules."""
    participations = participations_of_store(store=terminal.store)
    if not participations:
        raise StoreNotInProgramme()
    moment = occurred_at or timezone.now()
    for participation in participations:
        _check_time(moment, participation.programme)
    return participations


def _programme_key(key: str, participation: Participation, participations: list[Participation]) -> str:
    """The ledger key of a purchase's entries in one programme: the request's in the primary one."""
    return key if participation is participations[0] else f"{key}@{participation.programme.code}"


def till_programme(*, terminal: Terminal, code: str) -> Programme:
    """The programme with this code among the terminal's store's (a spend that names its programme)."""
    for participation in participations_of_store(store=terminal.store):
        if participation.programme.code == code:
            return participation.programme
    raise StoreNotInProgramme()


def _check_time(occurred_at: datetime.datetime, programme: Programme) -> None:
    now = timezone.now()
    if occurred_at > now + datetime.timedelta(seconds=settings.TERMINAL_CLOCK_SKEW_SECONDS):
        raise errors.OccurredInFuture()
    if occurred_at < now - datetime.timedelta(days=programme.max_backdate_days):
        message = errors.OccurredTooLongAgo.default_message % {"days": programme.max_backdate_days}
        raise errors.OccurredTooLongAgo(message)


def _till_card(card_type: str, number: str, programme: Programme, store: Store) -> tuple[Card, Account | None, bool]:
    """The card touched at the till, locked, with its account in the programme when it has one; created on
    the spot (with its member) if no card has its number."""
    index = card_number_index(number)
    card, account = points_card_lock(number_index=index, programme=programme)
    if card is None:
        try:
            # In a savepoint of its own: another till creating the same card at this moment wins, and we lock
            # its card.
            return card_create(number=number, card_type=card_type, store_code=store.code), None, True
        except IntegrityError:
            card, account = points_card_lock(number_index=index, programme=programme)
            if card is None:
                raise
    if card.card_type != card_type:
        raise errors.CardTypeMismatch()
    return card, account, False


def _expiring(account: Account | None) -> list[dict]:
    if account is None or account.pk is None:
        return []
    return lots_expiring(account=account, within_days=EXPIRING_WITHIN_DAYS)


def _standing(account: Account | None) -> Standing | None:
    if account is None or account.pk is None:
        return None
    return rank_standing(member_id=account.member_id, programme=Programme(pk=account.programme_id))


def _line(programme: Programme, posting: Posting) -> ProgrammeLine:
    account = posting.account
    line = ProgrammeLine(programme, posting, account, _expiring(account), _standing(account))
    line.purchased = _purchased(programme, account)
    return line


def _purchased(programme: Programme, account: Account | None) -> int | None:
    """The purchased part of the balance, shown apart (区分表示) where the programme sells points."""
    if not programme.sells_points:
        return None
    return purchased_balance(account=account) if account is not None and account.pk else 0


def _programme_of(posting: Posting, participations: list[Participation]) -> Programme:
    """The programme of a posting's account, as the store's participations hold it (else read)."""
    programme_id = posting.account.programme_id
    known = next((each.programme for each in participations if each.programme_id == programme_id), None)
    return known or Programme.objects.get(pk=programme_id)


@contextlib.contextmanager
def till_request() -> Iterator[None]:
    """Till operations inside the block write straight into the caller's open transaction, which answers
    for retries itself (the terminal API's idempotency record, claimed in it). No savepoint: the till
    refuses before it writes (but for a card seen for the first time, which stays), so a refusal leaves
    the transaction usable for storing the answer; anything else that goes wrong rolls it all back."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("till_request() needs the caller's open transaction.")
    _request.open = True
    try:
        yield
    finally:
        _request.open = False


def _in_request() -> bool:
    return getattr(_request, "open", False)


def _transaction():
    return contextlib.nullcontext() if _in_request() else transaction.atomic()


def _once(idempotency_key: str, run, participations: list[Participation] | None = None) -> Receipt:
    """`run` in the request's transaction (`till_request`), or in a transaction or savepoint of its own
    where a second call with the same key gets back what the first one wrote (the entries' unique key
    refuses the second), in each of the store's `participations` for an earning."""
    if _in_request():
        return run()
    try:
        with transaction.atomic():
            return run()
    except (IntegrityError, LedgerError):
        # The second call of a key, or one refused because the first has moved the balance on since.
        keys = [idempotency_key]
        if participations:
            keys = [_programme_key(idempotency_key, each, participations) for each in participations]
        postings = [posting for posting in map(lambda key: points_replay(idempotency_key=key), keys) if posting]
        if not postings:
            raise
        return _replayed(postings, participations or [])


def _replayed(postings: list[Posting], participations: list[Participation]) -> Receipt:
    first = postings[0].entries[0]
    card = Card.objects.select_related("member").get(pk=first.card_id)
    coupons = list(
        Coupon.objects.filter(issued_by__in=[posting.entries[0] for posting in postings])
        .select_related("template")
        .order_by("pk")
    )
    lines = [_line(_programme_of(posting, participations), posting) for posting in postings]
    return Receipt(lines, card, coupons=coupons)
