"""Monthly billing in the back office: settings and store terms, periods (close, send, reopen),
the issued statements with their settlement, and adjustments for the next statement."""

from billing.admin import adjustments, periods, statements, terms  # noqa: F401 (each registers its admins)
from billing.models import (
    BillingAdjustment,
    BillingSettings,
    Period,
    Statement,
    StatementFile,
    StatementLine,
    StoreBillingTerms,
)
from common.scoping import register_programme_paths

# A period and its statements are a programme's; a store's own terms and adjustments are seen by the staff of
# every programme the store takes part in.
register_programme_paths(
    {
        BillingSettings: "programme",
        Period: "programme",
        Statement: "period__programme",
        StatementLine: "statement__period__programme",
        StatementFile: "statement__period__programme",
        StoreBillingTerms: "store__participation__programme",
        BillingAdjustment: "store__participation__programme",
    }
)
