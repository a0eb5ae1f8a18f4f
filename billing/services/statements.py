"""A period's statements built from the ledger: per store, the point, fee and adjustment lines, their
totals and direction, the frozen snapshot of the parties, and the numbers (gapless per issuer and year).
The close (services/close.py) calls `statements_build` inside its transaction."""

from __future__ import annotations

import datetime

from django.utils import timezone

from billing import money, selectors
from billing.models import (
    BillingAdjustment,
    BillingSettings,
    DocumentSequence,
    Statement,
    StatementLine,
    StoreBillingTerms,
    Tax,
)
from billing.periods import due_date
from offers.selectors import StoreOfferFigures, period_offer_figures

Kind = StatementLine.Kind


def _line(kind: str, description: str, amount: int, *, quantity=None, unit="", unit_price="", tax=Tax.NON_TAXABLE):
    return StatementLine(
        kind=kind,
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        amount_yen=amount,
        tax=tax,
    )


def _point_lines(figures: selectors.StoreFigures, terms: dict[str, int]) -> list[StatementLine]:
    issue, payback = terms["issue_price_bp"], terms["payback_rate_bp"]
    issue_text, payback_text = money.price_text(issue), money.price_text(payback)
    wanted = [
        (Kind.POINTS_ISSUED, "ポイント発行", figures.issued, issue, issue_text),
        (Kind.BONUS_STORE, "キャンペーン加算ポイント（店舗負担）", figures.bonus_store, issue, issue_text),
        (Kind.VOID_ISSUED, "取消・返品による発行ポイントの戻し", figures.void_issued, issue, issue_text),
        # Spent points are paid back to the store: the store's side is negative.
        (Kind.POINTS_SPENT, "ポイント利用（お支払い）", -figures.spent, payback, payback_text),
        (Kind.VOID_SPENT, "取消・返品による利用ポイントの戻し", figures.void_spent, payback, payback_text),
        # Points members bought at the store's till (資金決済法の前払式支払手段), shown apart from the free points
        # above: the store took their price for the programme and owes it, 1 point = 1 yen.
        (
            Kind.POINTS_SOLD,
            "ポイント販売（前払式支払手段）お預り金",
            figures.sold,
            money.BP,
            money.price_text(money.BP),
        ),
    ]
    lines = []
    for kind, text, points, price, price_text in wanted:
        if points:
            quantity = abs(points)
            lines.append(
                _line(
                    kind,
                    text,
                    money.points_to_yen(points, price_bp=price),
                    quantity=quantity,
                    unit="pt",
                    unit_price=price_text,
                )
            )
    return lines


def _fee_lines(store, figures: selectors.StoreFigures | None, terms: dict[str, int]) -> list[StatementLine]:
    taxable = Tax.TAXABLE_10
    lines = []
    if terms["system_fee_yen"]:
        fee = terms["system_fee_yen"]
        lines.append(
            _line(Kind.SYSTEM_FEE, "システム利用料", fee, quantity=1, unit="月", unit_price=f"{fee:,}円", tax=taxable)
        )
    if terms["terminal_rental_yen"] and store.terminals_rented:
        rent = terms["terminal_rental_yen"]
        lines.append(
            _line(
                Kind.TERMINAL_RENTAL,
                "端末レンタル料",
                rent * store.terminals_rented,
                quantity=store.terminals_rented,
                unit="台",
                unit_price=f"{rent:,}円",
                tax=taxable,
            )
        )
    transactions = figures.transactions if figures else 0
    if terms["transaction_fee_yen"] and transactions:
        fee = terms["transaction_fee_yen"]
        lines.append(
            _line(
                Kind.TRANSACTION_FEE,
                "取引手数料",
                fee * transactions,
                quantity=transactions,
                unit="件",
                unit_price=f"{fee:,}円",
                tax=taxable,
            )
        )
    return lines


def _offer_lines(offers: StoreOfferFigures | None) -> list[StatementLine]:
    """Card-linked offers: the yen paid back to members for the store (not taxable: a discount the store
    funds, passed through), and the fees per benefit paid (taxable, at 10 %). Returns after payment reduce
    both. Points paid are store-funded bonus entries, billed with the campaigns' above."""
    if offers is None:
        return []
    lines = []
    if offers.cashback_yen:
        lines.append(_line(Kind.OFFER_CASHBACK, "カード連動オファー 還元額（店舗負担）", offers.cashback_yen))
    if offers.fees_yen:
        lines.append(
            _line(
                Kind.OFFER_FEE,
                "カード連動オファー 成果手数料",
                offers.fees_yen,
                quantity=offers.redemptions,
                unit="件",
                tax=Tax.TAXABLE_10,
            )
        )
    return lines


def _adjustment_lines(adjustments: list[BillingAdjustment]) -> list[StatementLine]:
    return [
        _line(Kind.ADJUSTMENT, f"調整: {adjustment.reason}"[:300], adjustment.amount_yen, tax=adjustment.tax)
        for adjustment in adjustments
    ]


# --- totals ----------------------------------------------------------------------------


def statement_totals(lines: list[StatementLine]) -> dict[str, int]:
    """Taxable and non-taxable sums, the tax computed once at the one rate, and the signed net."""
    taxable = sum(line.amount_yen for line in lines if line.tax == Tax.TAXABLE_10)
    non_taxable = sum(line.amount_yen for line in lines if line.tax == Tax.NON_TAXABLE)
    tax = money.consumption_tax(taxable)
    return {"taxable": taxable, "tax": tax, "non_taxable": non_taxable, "net": taxable + tax + non_taxable}


def _direction(net: int) -> str:
    if net > 0:
        return Statement.Direction.STORE_PAYS
    return Statement.Direction.STORE_IS_PAID if net < 0 else Statement.Direction.EVEN


def statement_numbers_take(issuer: str, year: int, count: int) -> list[str]:
    """`count` consecutive document numbers, under the sequence's row lock: no gaps, no doubles."""
    DocumentSequence.objects.get_or_create(issuer_registration_number=issuer, year=year)
    sequence = DocumentSequence.objects.select_for_update().get(issuer_registration_number=issuer, year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return [f"{year}-{number:06d}" for number in range(first, first + count)]


def _party(merchant) -> dict:
    return {
        "name": merchant.name,
        "postal_code": merchant.postal_code,
        "address": merchant.address,
        "registration_number": merchant.invoice_registration_number,
        "phone": merchant.phone,
    }


def _issuer(settings: BillingSettings) -> dict:
    programme = settings.programme
    return {
        "name": programme.issuer_name,
        "postal_code": programme.secretariat_postal_code,
        "address": programme.secretariat_address,
        "registration_number": settings.issuer_registration_number,
        "phone": programme.secretariat_phone,
    }


def _payment_note(settings: BillingSettings, merchant, direction: str, due_on: datetime.date) -> str:
    if direction == Statement.Direction.STORE_PAYS:
        kind = "当座" if settings.account_type == "current" else "普通"
        account = f"{settings.bank_name} {settings.branch_name} {kind} {settings.account_number}".strip()
        return f"{due_on:%Y年%m月%d日}までに下記口座へお振込みください。{account}（振込手数料はご負担ください）"
    if direction == Statement.Direction.STORE_IS_PAID:
        tail = merchant.bank_account_number[-3:] if merchant.bank_account_number else "---"
        return (
            f"{due_on:%Y年%m月%d日}に貴社ご登録口座（{merchant.bank_code or '----'}-"
            f"{merchant.bank_branch_code or '---'} 口座番号末尾{tail}）へお振込みします。"
        )
    return "今回の精算額はありません。"


def _snapshot(settings, store, period, figures, adjustments, direction, due_on) -> dict:
    days = sorted((figures.days if figures else {}).items())
    return {
        "issuer": _issuer(settings),
        "recipient": _party(store.merchant),
        "store_code": store.code,
        "store_name": store.name,
        "period_label": period.label,
        "period_start": timezone.localdate(period.starts_at).isoformat(),
        "period_end": (timezone.localdate(period.ends_at) - datetime.timedelta(days=1)).isoformat(),
        "days": [[day.isoformat(), issued, spent, count] for day, (issued, spent, count) in days],
        "payment_note": _payment_note(settings, store.merchant, direction, due_on),
        "rounding_note": money.ROUNDING_NOTE,
        "adjustments_note": "\n".join(f"{a.reason}（{a.amount_yen:+,d}円）" for a in adjustments),
        "bonus_secretariat_points": (figures.bonus_secretariat + figures.void_bonus_secretariat) if figures else 0,
    }


# --- the close -------------------------------------------------------------------------


def statements_build(period, settings, today) -> tuple[list[Statement], dict[int, list[StatementLine]], list, dict]:
    """The period's statements, unsaved and unnumbered: (statements, their lines by position, the adjustments
    each takes in (rows locked), the ledger figures per store). Inside the close's transaction."""
    figures = selectors.period_store_figures(
        programme=period.programme, starts_at=period.starts_at, ends_at=period.ends_at
    )
    offers = period_offer_figures(programme=period.programme, starts_at=period.starts_at, ends_at=period.ends_at)
    overrides = {terms.store_id: terms for terms in StoreBillingTerms.objects.all()}
    # Every store under contract in the period, and any other store the ledger has entries at.
    stores = {
        store.pk: store
        for store in selectors.period_billable_stores(
            programme=period.programme,
            starts_at=period.starts_at,
            ends_at=period.ends_at,
            with_activity=set(figures) | set(offers),
        )
    }
    # Locked: an adjustment changed or withdrawn while the close runs waits, and cannot go out stale.
    pending = list(
        BillingAdjustment.objects.select_for_update()
        .filter(applied_in__isnull=True, store__in=list(stores), created_at__lt=timezone.now())
        .order_by("pk")
    )
    due_on = due_date(
        year=period.year, month=period.month, due_months=settings.payment_due_months, due_day=settings.payment_due_day
    )
    statements, lines_of, taken = [], {}, []
    for store in sorted(stores.values(), key=lambda s: s.code):
        found = figures.get(store.pk)
        terms = selectors.store_terms(settings=settings, overrides=overrides, store_id=store.pk)
        adjustments = [a for a in pending if a.store_id == store.pk]
        lines = (_point_lines(found, terms) if found else []) + _fee_lines(store, found, terms)
        lines += _offer_lines(offers.get(store.pk))
        lines += _adjustment_lines(adjustments)
        if not lines and not (found and found.bonus_secretariat + found.void_bonus_secretariat):
            continue
        totals = statement_totals(lines)
        direction = _direction(totals["net"])
        statements.append(
            Statement(
                period=period,
                store=store,
                merchant=store.merchant,
                issuer_registration_number=settings.issuer_registration_number,
                issued_on=today,
                due_on=due_on,
                recipient_name=store.merchant.name,
                direction=direction,
                net_amount_yen=totals["net"],
                taxable_amount_yen=totals["taxable"],
                tax_yen=totals["tax"],
                non_taxable_amount_yen=totals["non_taxable"],
                points_issued=(found.issued + found.bonus_store + found.void_issued) if found else 0,
                points_spent=(found.spent - found.void_spent) if found else 0,
                snapshot=_snapshot(settings, store, period, found, adjustments, direction, due_on),
            )
        )
        lines_of[len(statements) - 1] = lines
        taken.append(adjustments)
    return statements, lines_of, taken, figures
