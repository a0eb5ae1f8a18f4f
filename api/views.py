"""The terminal API, version 1: look up a card, earn, spend, void, and the terminal's day."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from api import schemas
from api.errors import ApiError
from api.pipeline import endpoint
from campaigns.services import campaigns_after_earn
from common.snapshots import snapshots_checked
from coupons.selectors import coupon_receipt_lines
from coupons.services import coupon_redeem, coupons_after_earn, coupons_after_void
from members.models import Card, Member
from members.services import CardNumberError, card_find, card_get_or_create, card_number_normalise
from points.models import Account, Entry, Programme
from points.selectors import lots_expiring
from points.services import Posting, points_earn, points_spend, points_void, programme_for_store
from rallies.services import rallies_after_earn, rallies_after_void
from stores.selectors import local_midnight

EXPIRING_WITHIN_DAYS = 92


def _normalised(card: schemas.CardRef) -> str:
    try:
        return card_number_normalise(number=card.number, card_type=card.type)
    except CardNumberError as error:
        raise ApiError(400, "invalid_card", str(error)) from None


def _known_card(card: schemas.CardRef, cards: dict | None = None) -> Card:
    number = _normalised(card)
    found = cards.get(number) if cards is not None else None
    found = found or card_find(number=number)
    if found is None or found.card_type != card.type:
        raise ApiError(404, "card_not_found", _("This card is not known to the programme."))
    if cards is not None:
        cards[number] = found
    return found


def _till_card(card: schemas.CardRef, *, store_code: str, cards: dict | None = None) -> tuple[Card, bool]:
    """The card touched at the till, created on the spot if unknown; `cards` keeps what a batch has found."""
    number = _normalised(card)
    if cards is not None and number in cards:
        found, created = cards[number], False
    else:
        found, created = card_get_or_create(number=number, card_type=card.type, store_code=store_code)
    if found.card_type != card.type:
        raise ApiError(409, "card_type_mismatch", _("This number belongs to a card of another type."))
    if cards is not None:
        cards[number] = found
    return found, created


def _check_time(occurred_at: datetime.datetime, programme: Programme) -> None:
    now = timezone.now()
    if occurred_at > now + datetime.timedelta(seconds=settings.TERMINAL_CLOCK_SKEW_SECONDS):
        raise ApiError(422, "occurred_at_in_future", _("The time of the transaction is in the future."))
    if occurred_at < now - datetime.timedelta(days=programme.max_backdate_days):
        raise ApiError(
            422,
            "occurred_at_too_old",
            _("The transaction is older than the programme accepts (%(days)s days).")
            % {"days": programme.max_backdate_days},
        )


def _card_state(card: Card | None, card_type: str, number: str, *, created: bool = False) -> schemas.CardState:
    return schemas.CardState(
        type=card_type,
        last4=number[-4:],
        known=card is not None,
        registered=bool(card and card.member.is_registered),
        created_now=created,
    )


def _expiring(account: Account | None) -> list[schemas.ExpiringPoints]:
    if account is None or account.pk is None:
        return []
    return [
        schemas.ExpiringPoints(date=row["expires_on"], points=row["points"])
        for row in lots_expiring(account=account, within_days=EXPIRING_WITHIN_DAYS)
    ]


def _receipt(
    card: Card, posting: Posting, *, created: bool = False, rally=(), coupons=(), withdrawn=()
) -> schemas.Receipt:
    account = posting.account
    base = sum(e.points for e in posting.entries if e.kind != Entry.Kind.BONUS)
    bonuses = [
        schemas.Bonus(name=e.reason or _("Bonus"), points=e.points)
        for e in posting.entries
        if e.kind == Entry.Kind.BONUS
    ]
    registered = card.member.is_registered
    return schemas.Receipt(
        transaction_id=posting.operation,
        card=_card_state(card, card.card_type, card.number, created=created),
        points=schemas.PointsThisTime(base=base, bonuses=bonuses, total=posting.points),
        balance=account.balance,
        debt=account.debt,
        expiring_soon=_expiring(account),
        registration_notice=None
        if registered
        else _("Register this card at the shopping street office or online to keep your points safe if it is lost."),
        rally=list(rally),
        coupons=[schemas.ReceiptCoupon(**line) for line in coupon_receipt_lines(coupons)],
        coupons_withdrawn=[coupon.printed_code for coupon in withdrawn],
    )


@endpoint(method="GET")
def card_lookup(request, terminal, data, *, card_type: str, number: str):
    ref = schemas.CardRef.model_construct(type=card_type, number=number)
    if card_type not in Card.CardType.values:
        raise ApiError(400, "invalid_card", _("Unknown card type."))
    card = card_find(number=_normalised(ref))
    if card is not None and card.card_type != card_type:
        card = None
    account = None
    if card is not None:
        programme = programme_for_store(store=terminal.store)
        account = Account.objects.filter(member_id=card.member_id, programme=programme).first()
    return 200, schemas.CardLookup(
        card=_card_state(card, card_type, _normalised(ref)),
        balance=account.balance if account else 0,
        debt=account.debt if account else 0,
        expiring_soon=_expiring(account),
    )


# --- the writes, shared by the single requests and the offline batch (api.batch) ---------
# A batch passes the store's programme, resolved once, and a dict in which it keeps the cards it found.


def apply_earn(
    terminal, data: schemas.EarnRequest, ledger_key: str, *, programme: Programme | None = None, cards=None
) -> tuple[int, schemas.Receipt]:
    programme = programme or programme_for_store(store=terminal.store)
    _check_time(data.occurred_at, programme)
    card, created = _till_card(data.card, store_code=terminal.store.code, cards=cards)
    categories = frozenset(item.category for item in data.items if item.category)
    # Whether the running campaigns, coupon templates and rallies changed: one question for the three.
    with snapshots_checked(programme.pk):
        posting = points_earn(
            card=card,
            store=terminal.store,
            amount_yen=data.amount_yen,
            idempotency_key=ledger_key,
            occurred_at=data.occurred_at,
            terminal=terminal,
            receipt_no=data.receipt_no,
            programme=programme,
        )
        coupons = coupons_after_earn(
            posting=posting, store=terminal.store, occurred_at=data.occurred_at, item_categories=categories
        )
        # Before the receipt: a rally goal's bonus joins the purchase's bonuses.
        rally = rallies_after_earn(
            posting=posting, store=terminal.store, amount_yen=data.amount_yen, occurred_at=data.occurred_at
        )
        # Last: a campaign's budget stays locked from its bonus to the commit.
        campaigns_after_earn(
            posting=posting,
            store=terminal.store,
            amount_yen=data.amount_yen,
            occurred_at=data.occurred_at,
            programme=programme,
            item_categories=categories,
        )
    # The member as the ledger locked it (registered or not); a replay carries no card.
    card.member = posting.card.member if posting.card else Member.objects.get(pk=card.member_id)
    return (201 if posting.entries else 200), _receipt(card, posting, created=created, rally=rally, coupons=coupons)


def apply_spend(
    terminal, data: schemas.SpendRequest, ledger_key: str, *, programme: Programme | None = None, cards=None
) -> tuple[int, schemas.Receipt]:
    programme = programme or programme_for_store(store=terminal.store, spending=True)
    _check_time(data.occurred_at, programme)
    card = _known_card(data.card, cards)
    posting = points_spend(
        card=card,
        store=terminal.store,
        points=data.points,
        idempotency_key=ledger_key,
        occurred_at=data.occurred_at,
        terminal=terminal,
        receipt_no=data.receipt_no,
        amount_yen=data.amount_yen,
        programme=programme,
    )
    return 201, _receipt(card, posting)


def purchase_of(terminal, **lookup) -> Entry:
    """The first entry of a purchase at the terminal's store, by `operation=` (its transaction id)
    or by `idempotency_key=` (the ledger key of the request that made it)."""
    original = (
        Entry.objects.filter(
            **lookup, store=terminal.store, kind__in=[Entry.Kind.EARN, Entry.Kind.BONUS, Entry.Kind.SPEND]
        )
        .select_related("card__member")
        .order_by("id")
        .first()
    )
    if original is None:
        raise ApiError(404, "transaction_not_found", _("No purchase of this store has this transaction id."))
    return original


def apply_void(
    terminal,
    original: Entry,
    *,
    occurred_at,
    refund_amount_yen: int | None,
    ledger_key: str,
    programme: Programme | None = None,
) -> tuple[int, schemas.Receipt]:
    _check_time(occurred_at, programme or programme_for_store(store=terminal.store))
    posting = points_void(
        entry=original,
        idempotency_key=ledger_key,
        refund_amount_yen=refund_amount_yen,
        terminal=terminal,
        occurred_at=occurred_at,
    )
    rally = rallies_after_void(original_entry=original)
    withdrawn = coupons_after_void(original_entry=original)
    return 201, _receipt(original.card, posting, rally=rally, withdrawn=withdrawn)


def apply_redeem(terminal, data: schemas.RedeemRequest, ledger_key: str) -> tuple[int, schemas.Redemption]:
    _check_time(data.occurred_at, programme_for_store(store=terminal.store))
    coupon = coupon_redeem(
        code=data.code,
        terminal=terminal,
        idempotency_key=ledger_key,
        occurred_at=data.occurred_at,
        receipt_no=data.receipt_no,
    )
    template, bonus = coupon.template, coupon.bonus
    return 201, schemas.Redemption(
        code=coupon.code,
        printed_code=coupon.printed_code,
        name=template.name,
        benefit=template.benefit,
        discount_yen=template.discount_yen,
        bonus_points=template.bonus_points,
        redeemed_at=coupon.redeemed_at,
        transaction_id=bonus.operation if bonus else None,
        balance=Account.objects.values_list("balance", flat=True).get(pk=bonus.account_id) if bonus else None,
    )


@endpoint(method="POST", write=True, model=schemas.RedeemRequest)
def redeem_coupon(request, terminal, data: schemas.RedeemRequest, *, ledger_key: str):
    return apply_redeem(terminal, data, ledger_key)


@endpoint(method="POST", write=True, model=schemas.EarnRequest)
def earn(request, terminal, data: schemas.EarnRequest, *, ledger_key: str):
    return apply_earn(terminal, data, ledger_key)


@endpoint(method="POST", write=True, model=schemas.SpendRequest)
def spend(request, terminal, data: schemas.SpendRequest, *, ledger_key: str):
    return apply_spend(terminal, data, ledger_key)


@endpoint(method="POST", write=True, model=schemas.VoidRequest)
def void(request, terminal, data: schemas.VoidRequest, *, ledger_key: str):
    return apply_void(
        terminal,
        purchase_of(terminal, operation=data.transaction_id),
        occurred_at=data.occurred_at,
        refund_amount_yen=data.refund_amount_yen,
        ledger_key=ledger_key,
    )


@endpoint(method="GET")
def day(request, terminal, data):
    raw = request.GET.get("date")
    try:
        date = datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        raise ApiError(400, "invalid_request", _("Give the date as YYYY-MM-DD.")) from None
    start = local_midnight(date)
    try:
        # The database compares in UTC: the first and last days of the calendar have no UTC bounds.
        end = (start + datetime.timedelta(days=1)).astimezone(datetime.UTC)
        start = start.astimezone(datetime.UTC)
    except OverflowError:
        raise ApiError(400, "invalid_request", _("Give the date as YYYY-MM-DD.")) from None
    entries = Entry.objects.filter(terminal=terminal, recorded_at__gte=start, recorded_at__lt=end)
    lines = [
        schemas.DayLine(
            transaction_id=e.operation,
            kind=e.kind,
            points=e.points,
            amount_yen=e.amount_yen,
            receipt_no=e.receipt_no,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
        )
        for e in entries.order_by("recorded_at", "id")[:5000]
    ]
    totals = [
        schemas.DayTotal(kind=row["kind"], count=row["n"], points=row["p"] or 0, amount_yen=row["y"] or 0)
        for row in entries.values("kind").annotate(n=Count("id"), p=Sum("points"), y=Sum("amount_yen")).order_by("kind")
    ]
    return 200, schemas.Day(date=date, terminal=terminal.code, lines=lines, totals=totals)
