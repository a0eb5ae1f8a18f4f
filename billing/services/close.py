"""The month-end close: from the ledger to frozen statements, all stores of a period or none.

1. The period is marked closing, with progress the admin can watch (written
   outside the close's transaction).
2. One transaction: the period row is locked (a second close waits, then
   finds it closed and does nothing), the ledger is read in one grouped pass,
   a statement per store is built and numbered (gapless, per issuer and year),
   pending adjustments are taken in, and the result is tied out against a
   second reading of the ledger and against the change in outstanding points.
   If it does not tie out, nothing is written. A worker killed here leaves
   nothing half-closed: the transaction never commits.
3. After the commit the PDFs are rendered, each stored once; a run after a
   crash renders only the missing ones.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from billing import money, selectors
from billing.models import (
    BillingAdjustment,
    BillingSettings,
    DocumentSequence,
    Period,
    Statement,
    StatementLine,
    StoreBillingTerms,
    Tax,
)
from billing.periods import due_date, period_bounds
from points.models import Programme

Kind = StatementLine.Kind


class CloseError(Exception):
    """The close cannot finish; the message says why, in the user's language."""


@dataclass
class CloseResult:
    period: Period
    statements: int
    created: bool
    tie_out: dict = field(default_factory=dict)
    documents_rendered: int = 0


def _settings_for(programme: Programme) -> BillingSettings:
    try:
        return BillingSettings.objects.get(programme=programme)
    except BillingSettings.DoesNotExist:
        raise CloseError(_("The programme %(programme)s has no billing settings.") % {"programme": programme}) from None


def period_get_or_create(*, programme: Programme, year: int, month: int) -> Period:
    settings = _settings_for(programme)
    starts_at, ends_at = period_bounds(year=year, month=month, closing_day=settings.closing_day)
    period, _created = Period.objects.get_or_create(
        programme=programme, year=year, month=month, defaults={"starts_at": starts_at, "ends_at": ends_at}
    )
    return period


def _progress(period: Period, phase: str, done: int = 0, total: int = 0) -> None:
    """Visible at once to the admin: written in autocommit, outside the close's transaction."""
    period.progress = {"phase": phase, "done": done, "total": total, "at": timezone.now().isoformat()}
    Period.objects.filter(pk=period.pk).update(progress=period.progress)


# --- building the lines ----------------------------------------------------------------


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


def _take_numbers(issuer: str, year: int, count: int) -> list[str]:
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
    return {
        "name": settings.issuer_name,
        "postal_code": settings.issuer_postal_code,
        "address": settings.issuer_address,
        "registration_number": settings.issuer_registration_number,
        "phone": settings.issuer_phone,
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


def _build(period, settings, today) -> tuple[list[Statement], dict[int, list[StatementLine]], list, dict]:
    figures = selectors.period_store_figures(
        programme=period.programme, starts_at=period.starts_at, ends_at=period.ends_at
    )
    overrides = {terms.store_id: terms for terms in StoreBillingTerms.objects.all()}
    # Every store under contract in the period, and any other store the ledger has entries at.
    stores = {
        store.pk: store
        for store in selectors.period_billable_stores(
            programme=period.programme, starts_at=period.starts_at, ends_at=period.ends_at, with_activity=figures
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


def _tie_out(period: Period, figures: dict, statements: list[Statement]) -> dict:
    """Prove the close: its statements against a second reading of the ledger, and the period's movement
    against the change in outstanding points (stated by the previous close, and read from the accounts'
    balances now less what was recorded since)."""
    ledger = selectors.period_ledger_movements(
        programme=period.programme, starts_at=period.starts_at, ends_at=period.ends_at
    )
    billed = list(figures.values())
    from_statements = {
        "earn": sum(f.issued for f in billed),
        "bonus": sum(f.bonus_store + f.bonus_secretariat for f in billed),
        "spend": -sum(f.spent for f in billed),
        "void": sum(f.void_issued + f.void_bonus_secretariat + f.void_spent for f in billed),
    }
    billed_stores = {statement.store_id for statement in statements}
    unbilled = sorted(store_id for store_id, found in figures.items() if store_id not in billed_stores)
    at_stores = {kind: ledger["at_stores"].get(kind, 0) for kind in from_statements}
    movement = sum(ledger["all"].values())
    # The outstanding points the previous close stated, if there was one: a late entry in that period, or
    # balances that drifted from their entries, then shows here as a difference.
    previous = (
        Period.objects.filter(programme=period.programme, status=Period.Status.CLOSED, ends_at=period.starts_at)
        .values_list("tie_out", flat=True)
        .first()
    )
    outstanding_before = (previous or {}).get("outstanding_after")
    if outstanding_before is None:
        # The first close: the entries' own sum (the balances are the other side of the check).
        outstanding_before = selectors.entries_sum_before(programme=period.programme, at=period.starts_at)
    outstanding_after = selectors.outstanding_at(programme=period.programme, at=period.ends_at)
    result = {
        "statements": len(statements),
        "statement_points": from_statements,
        "ledger_points_at_stores": at_stores,
        "ledger_movement_by_kind": ledger["all"],
        "ledger_movement": movement,
        "outstanding_before": outstanding_before,
        "outstanding_after": outstanding_after,
        "net_yen": sum(s.net_amount_yen for s in statements),
        "tax_yen": sum(s.tax_yen for s in statements),
        "unbilled_stores": unbilled,
    }
    result["ties_out"] = (
        from_statements == at_stores and not unbilled and outstanding_after - outstanding_before == movement
    )
    return result


def period_close(
    *, programme: Programme, year: int, month: int, staff=None, now: datetime.datetime | None = None
) -> CloseResult:
    """Close a period: every store's statement, frozen and numbered, or nothing at all.

    Safe to run again: a closed period is left as it is (only PDFs still
    missing after a crash are rendered). Raises CloseError if the period has
    not ended yet (plus a grace for requests still in flight) or does not tie out.
    """
    from billing.services.documents import documents_render_missing

    now = now or timezone.now()
    settings = _settings_for(programme)
    period = period_get_or_create(programme=programme, year=year, month=month)
    grace = datetime.timedelta(minutes=django_settings.BILLING_CLOSE_GRACE_MINUTES)
    if period.status == Period.Status.CLOSED:
        rendered = documents_render_missing(period=period)
        return CloseResult(
            period,
            period.statements.exclude(status=Statement.Status.CANCELLED).count(),
            False,
            period.tie_out,
            rendered,
        )
    if now < period.ends_at + grace:
        raise CloseError(
            _("The period %(period)s has not ended yet; it can be closed from %(when)s.")
            % {"period": period, "when": timezone.localtime(period.ends_at + grace).strftime("%Y-%m-%d %H:%M")}
        )
    Period.objects.filter(pk=period.pk, status=Period.Status.OPEN).update(status=Period.Status.CLOSING)
    _progress(period, "reading the ledger")
    try:
        statements, tie_out = _close_in_one_transaction(period, settings, staff, now)
    except BaseException as error:
        # Nothing was written; the period is open again, and the admin says why.
        Period.objects.filter(pk=period.pk, status=Period.Status.CLOSING).update(status=Period.Status.OPEN)
        _progress(period, f"failed: {error}"[:500])
        raise
    if statements is None:
        # Another close finished while this one waited for the lock.
        period.refresh_from_db()
        return CloseResult(
            period, period.statements.exclude(status=Statement.Status.CANCELLED).count(), False, period.tie_out
        )
    period.refresh_from_db()
    rendered = documents_render_missing(period=period)
    return CloseResult(period, statements, True, tie_out, rendered)


def _close_in_one_transaction(period: Period, settings: BillingSettings, staff, now) -> tuple[int | None, dict]:
    with transaction.atomic(durable=True):
        period = Period.objects.select_for_update().select_related("programme").get(pk=period.pk)
        if period.status == Period.Status.CLOSED:
            return None, period.tie_out
        statements, lines_of, taken, figures = _build(period, settings, timezone.localdate(now))
        tie_out = _tie_out(period, figures, statements)
        if not tie_out["ties_out"]:
            raise CloseError(_("The close does not tie out; nothing was written. %(detail)s") % {"detail": tie_out})
        numbers = _take_numbers(settings.issuer_registration_number, timezone.localdate(now).year, len(statements))
        for statement, number in zip(statements, numbers, strict=True):
            statement.number = number
        Statement.objects.bulk_create(statements)
        lines = []
        for index, statement in enumerate(statements):
            for position, line in enumerate(lines_of[index], start=1):
                line.statement, line.position = statement, position
                lines.append(line)
        StatementLine.objects.bulk_create(lines, batch_size=1000)
        for statement, adjustments in zip(statements, taken, strict=True):
            if adjustments:
                BillingAdjustment.objects.filter(pk__in=[a.pk for a in adjustments]).update(applied_in=statement)
        period.status, period.closed_at, period.closed_by, period.tie_out = Period.Status.CLOSED, now, staff, tie_out
        period.progress = {"phase": "closed", "done": len(statements), "total": len(statements), "at": now.isoformat()}
        period.save(update_fields=["status", "closed_at", "closed_by", "tie_out", "progress"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=period,
            summary=gettext_noop("Closed the billing period"),
            detail={"statements": len(statements), "net_yen": tie_out["net_yen"]},
        )
    return len(statements), tie_out


def period_reopen(*, period: Period, staff, reason: str) -> int:
    """Reopen a closed period whose documents were not sent yet; its statements are cancelled, not deleted
    (their numbers and PDFs stay on file), and their adjustments wait for the next close. Returns how many."""
    if not reason.strip():
        raise CloseError(_("Give a reason for reopening the period."))
    with transaction.atomic(durable=True):
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.status != Period.Status.CLOSED:
            raise CloseError(_("Only a closed period can be reopened."))
        live = period.statements.exclude(status=Statement.Status.CANCELLED)
        if live.filter(sent_at__isnull=False).exists():
            raise CloseError(
                _(
                    "Documents of this period were already sent to merchants; correct it with an "
                    "adjustment in the next period instead."
                )
            )
        cancelled = list(live.values_list("pk", flat=True))
        BillingAdjustment.objects.filter(applied_in__in=cancelled).update(applied_in=None)
        live.update(status=Statement.Status.CANCELLED)
        period.status, period.closed_at, period.closed_by, period.tie_out = Period.Status.OPEN, None, None, {}
        period.progress = {}
        period.save(update_fields=["status", "closed_at", "closed_by", "tie_out", "progress"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=period,
            summary=gettext_noop("Reopened the billing period"),
            detail={"reason": reason, "cancelled_statements": len(cancelled)},
        )
    return len(cancelled)
