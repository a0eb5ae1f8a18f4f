"""Monthly billing in the back office: settings and store terms, periods (close, send, reopen),
the issued statements with their settlement, and adjustments for the next statement."""

from billing.admin import adjustments, periods, statements, terms  # noqa: F401 (each registers its admins)
