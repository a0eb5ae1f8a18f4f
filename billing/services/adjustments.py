"""Billing adjustments: corrections found after a close, carried as lines of the store's next statement.

An adjustment waits until the next close takes it in; until then it can be
corrected or withdrawn. Once a statement carries it, it is part of an issued
document and never changes again.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from billing.models import BillingAdjustment, Statement, Tax
from stores.models import Store


class AdjustmentError(ValueError):
    """The adjustment cannot be recorded or changed; the message says why, in the user's language."""


def _checked(*, store: Store, amount_yen: int, tax: str, reason: str, corrects: Statement | None) -> str:
    reason = reason.strip()
    if not amount_yen:
        raise AdjustmentError(_("Enter a non-zero amount."))
    if not reason:
        raise AdjustmentError(_("An adjustment needs a reason."))
    if tax not in Tax.values:
        raise AdjustmentError(_("Choose how the adjustment is taxed."))
    if corrects is not None and corrects.store_id != store.pk:
        raise AdjustmentError(_("The corrected statement belongs to another store."))
    return reason


def _detail(adjustment: BillingAdjustment) -> dict:
    return {
        "store": adjustment.store.code,
        "amount_yen": adjustment.amount_yen,
        "tax": adjustment.tax,
        "reason": adjustment.reason,
        "corrects": adjustment.corrects.number if adjustment.corrects else None,
    }


def billing_adjustment_create(
    *, store: Store, amount_yen: int, tax: str, reason: str, corrects: Statement | None = None, staff
) -> BillingAdjustment:
    """Record a correction for the store's next statement (positive when the store owes it)."""
    reason = _checked(store=store, amount_yen=amount_yen, tax=tax, reason=reason, corrects=corrects)
    with transaction.atomic():
        adjustment = BillingAdjustment.objects.create(
            store=store, amount_yen=amount_yen, tax=tax, reason=reason, corrects=corrects, created_by=staff
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD,
            obj=adjustment,
            summary=gettext_noop("Recorded a billing adjustment"),
            detail=_detail(adjustment),
        )
    return adjustment


def _lock_pending(adjustment: BillingAdjustment) -> BillingAdjustment:
    locked = (
        BillingAdjustment.objects.select_for_update(of=("self",))
        .select_related("store", "corrects")
        .get(pk=adjustment.pk)
    )
    if locked.applied_in_id is not None:
        raise AdjustmentError(
            _("This adjustment is already on statement %(number)s and can no longer change.")
            % {"number": locked.applied_in.number}
        )
    return locked


def billing_adjustment_change(
    *,
    adjustment: BillingAdjustment,
    amount_yen: int,
    tax: str,
    reason: str,
    corrects: Statement | None = None,
    staff,
) -> BillingAdjustment:
    """Correct an adjustment that no statement carries yet. The store stays the same."""
    with transaction.atomic():
        locked = _lock_pending(adjustment)
        reason = _checked(store=locked.store, amount_yen=amount_yen, tax=tax, reason=reason, corrects=corrects)
        before = _detail(locked)
        locked.amount_yen, locked.tax, locked.reason, locked.corrects = amount_yen, tax, reason, corrects
        locked.save(update_fields=["amount_yen", "tax", "reason", "corrects"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.CHANGE,
            obj=locked,
            summary=gettext_noop("Changed a billing adjustment"),
            detail={"before": before, "after": _detail(locked)},
        )
    return locked


def billing_adjustment_delete(*, adjustment: BillingAdjustment, staff) -> None:
    """Withdraw an adjustment that no statement carries yet."""
    with transaction.atomic():
        locked = _lock_pending(adjustment)
        detail = _detail(locked)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.DELETE,
            obj=locked,
            summary=gettext_noop("Withdrew a billing adjustment"),
            detail=detail,
        )
        locked.delete()
