"""The terminal API, version 1: look up a card, earn, spend, void, and the terminal's day."""

from __future__ import annotations

import datetime

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from api import schemas
from api.errors import ApiError
from api.pipeline import endpoint
from coupons.selectors import coupon_receipt_lines
from members.models import Card
from members.services import card_registration_code
from points.models import Entry
from points.services import Posting
from ranks.services import Standing
from stores.selectors import local_midnight
from till.services import (
    ProgrammeLine,
    Receipt,
    till_card_lookup,
    till_earn,
    till_programme,
    till_purchase,
    till_redeem,
    till_sell_points,
    till_spend,
    till_void,
)


def _card_state(card: Card | None, card_type: str, last4: str, *, created: bool = False) -> schemas.CardState:
    return schemas.CardState(
        type=card_type,
        last4=last4,
        known=card is not None,
        registered=bool(card and card.member.is_registered),
        created_now=created,
    )


def _expiring(rows: list[dict]) -> list[schemas.ExpiringPoints]:
    return [schemas.ExpiringPoints(date=row["expires_on"], points=row["points"]) for row in rows]


def rank_line(standing: Standing | None) -> schemas.RankLine | None:
    if standing is None:
        return None
    return schemas.RankLine(
        name=standing.rank.name,
        benefits=standing.rank.benefits,
        next_rank=standing.next_rank.name if standing.next_rank else None,
        to_next_yen=standing.to_next_yen,
        to_keep_yen=standing.to_keep_yen,
        text=standing.text,
    )


def _points(posting: Posting) -> schemas.PointsThisTime:
    base = sum(e.points for e in posting.entries if e.kind != Entry.Kind.BONUS)
    bonuses = [
        schemas.Bonus(name=e.reason or _("Bonus"), points=e.points)
        for e in posting.entries
        if e.kind == Entry.Kind.BONUS
    ]
    return schemas.PointsThisTime(base=base, bonuses=bonuses, total=posting.points)


def _lines(lines: list[ProgrammeLine]) -> list[schemas.ProgrammeReceiptLine]:
    return [
        schemas.ProgrammeReceiptLine(
            programme=line.programme.code,
            name=line.programme.name,
            points=_points(line.posting) if line.posting is not None else None,
            balance=line.account.balance if line.account else 0,
            debt=line.account.debt if line.account else 0,
            expiring_soon=_expiring(line.expiring),
            rank=rank_line(line.standing),
            usable_here=line.usable_here,
            purchased=line.purchased,
        )
        for line in lines
    ]


def _receipt(receipt: Receipt) -> schemas.Receipt:
    posting, card = receipt.posting, receipt.card
    return schemas.Receipt(
        transaction_id=next((line.posting.operation for line in receipt.lines if line.posting.entries), None),
        card=_card_state(card, card.card_type, card.number_last4, created=receipt.created),
        points=_points(posting),
        balance=posting.account.balance,
        debt=posting.account.debt,
        expiring_soon=_expiring(receipt.expiring),
        registration_notice=None
        if receipt.registered
        else _(
            "Register this card at the shopping street office, or on the member site with the card number and "
            "this registration code, to keep your points safe if it is lost."
        ),
        registration_code=None if receipt.registered else card_registration_code(card=card),
        rank=rank_line(receipt.standing),
        programmes=_lines(receipt.lines),
        rally=list(receipt.rally),
        coupons=[schemas.ReceiptCoupon(**line) for line in coupon_receipt_lines(receipt.coupons)],
        coupons_withdrawn=[coupon.printed_code for coupon in receipt.withdrawn],
    )


@endpoint(method="GET")
def card_lookup(request, terminal, data, *, card_type: str, number: str):
    found = till_card_lookup(terminal=terminal, card_type=card_type, number=number)
    account = found.account
    return 200, schemas.CardLookup(
        card=_card_state(found.card, card_type, found.number[-4:]),
        balance=account.balance if account else 0,
        debt=account.debt if account else 0,
        expiring_soon=_expiring(found.expiring),
        rank=rank_line(found.standing),
        programmes=_lines(found.lines),
    )


# --- the writes: JSON to the till and back, for the single requests and the offline batch (api.batch) ------


def earn_answer(terminal, data: schemas.EarnRequest, ledger_key: str) -> tuple[int, schemas.Receipt]:
    receipt = till_earn(
        terminal=terminal,
        card_type=data.card.type,
        number=data.card.number,
        amount_yen=data.amount_yen,
        idempotency_key=ledger_key,
        occurred_at=data.occurred_at,
        receipt_no=data.receipt_no,
        item_categories=frozenset(item.category for item in data.items if item.category),
    )
    # Created when any programme of the store earned (its primary one may give nothing at a zero rate).
    wrote = any(line.posting.entries for line in receipt.lines)
    return (201 if wrote else 200), _receipt(receipt)


def spend_answer(terminal, data: schemas.SpendRequest, ledger_key: str) -> tuple[int, schemas.Receipt]:
    receipt = till_spend(
        terminal=terminal,
        card_type=data.card.type,
        number=data.card.number,
        points=data.points,
        idempotency_key=ledger_key,
        occurred_at=data.occurred_at,
        receipt_no=data.receipt_no,
        amount_yen=data.amount_yen,
        programme=till_programme(terminal=terminal, code=data.programme) if data.programme else None,
    )
    return 201, _receipt(receipt)


def void_answer(
    terminal, original: Entry, *, occurred_at, refund_amount_yen: int | None, ledger_key: str
) -> tuple[int, schemas.Receipt]:
    receipt = till_void(
        terminal=terminal,
        original=original,
        idempotency_key=ledger_key,
        occurred_at=occurred_at,
        refund_amount_yen=refund_amount_yen,
    )
    return 201, _receipt(receipt)


@endpoint(method="POST", write=True, model=schemas.RedeemRequest)
def redeem_coupon(request, terminal, data: schemas.RedeemRequest, *, ledger_key: str):
    coupon, balance = till_redeem(
        terminal=terminal,
        code=data.code,
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
        balance=balance,
    )


@endpoint(method="POST", write=True, model=schemas.EarnRequest)
def earn(request, terminal, data: schemas.EarnRequest, *, ledger_key: str):
    return earn_answer(terminal, data, ledger_key)


@endpoint(method="POST", write=True, model=schemas.SpendRequest)
def spend(request, terminal, data: schemas.SpendRequest, *, ledger_key: str):
    return spend_answer(terminal, data, ledger_key)


@endpoint(method="POST", write=True, model=schemas.PurchasePointsRequest)
def purchase_points(request, terminal, data: schemas.PurchasePointsRequest, *, ledger_key: str):
    receipt = till_sell_points(
        terminal=terminal,
        card_type=data.card.type,
        number=data.card.number,
        amount_yen=data.amount_yen,
        idempotency_key=ledger_key,
        occurred_at=data.occurred_at,
        receipt_no=data.receipt_no,
        programme=till_programme(terminal=terminal, code=data.programme) if data.programme else None,
    )
    return 201, _receipt(receipt)


@endpoint(method="POST", write=True, model=schemas.VoidRequest)
def void(request, terminal, data: schemas.VoidRequest, *, ledger_key: str):
    return void_answer(
        terminal,
        till_purchase(terminal=terminal, transaction_id=data.transaction_id),
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
