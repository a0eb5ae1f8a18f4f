"""Every write of the billing app. See services/close.py for the month-end close."""

from billing.services.adjustments import (
    AdjustmentError,
    billing_adjustment_change,
    billing_adjustment_create,
    billing_adjustment_delete,
)
from billing.services.close import CloseError, CloseResult, period_close, period_get_or_create, period_reopen
from billing.services.documents import documents_render_missing, period_send, statement_document
from billing.services.payments import billing_consignor, statement_settle, statements_transfer_file

__all__ = [
    "AdjustmentError",
    "billing_adjustment_change",
    "billing_consignor",
    "billing_adjustment_create",
    "billing_adjustment_delete",
    "CloseError",
    "CloseResult",
    "documents_render_missing",
    "period_close",
    "period_get_or_create",
    "period_reopen",
    "period_send",
    "statement_document",
    "statement_settle",
    "statements_transfer_file",
]
