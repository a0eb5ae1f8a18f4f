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
from billing import selectors
from billing.models import (
    BillingAdjustment,
    BillingSettings,
    Period,
    Statement,
    StatementLine,
)
from billing.periods import period_bounds
from billing.services.documents import documents_render_missing
from billing.services.progress import period_progress
from billing.services.statements import statement_numbers_take, statements_build
from points.models import Programme


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
    period_progress(period=period, phase="reading the ledger")
    try:
        statements, tie_out = _close_in_one_transaction(period, settings, staff, now)
    except BaseException as error:
        # Nothing was written; the period is open again, and the admin says why.
        Period.objects.filter(pk=period.pk, status=Period.Status.CLOSING).update(status=Period.Status.OPEN)
        period_progress(period=period, phase=f"failed: {error}"[:500])
        raise
    if statements is None:
        # Another close finished while this one waited for the lock.
        period.refresh_from_db()
        return CloseResult(
            period, period.statements.exclude(status=Statement.Status.CANCELLED).count(), False, period.tie_out
        )
    period.refresh_from_db()
    rendered = documents_render_missing(period=period)
    # Done: the admin stops saying the PDFs are being made.
    period_progress(period=period, phase="closed", done=statements, total=statements)
    return CloseResult(period, statements, True, tie_out, rendered)


def _close_in_one_transaction(period: Period, settings: BillingSettings, staff, now) -> tuple[int | None, dict]:
    with transaction.atomic(durable=True):
        period = Period.objects.select_for_update().select_related("programme").get(pk=period.pk)
        if period.status == Period.Status.CLOSED:
            return None, period.tie_out
        statements, lines_of, taken, figures = statements_build(period, settings, timezone.localdate(now))
        tie_out = _tie_out(period, figures, statements)
        if not tie_out["ties_out"]:
            raise CloseError(_("The close does not tie out; nothing was written. %(detail)s") % {"detail": tie_out})
        numbers = statement_numbers_take(
            settings.issuer_registration_number, timezone.localdate(now).year, len(statements)
        )
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
