"""django-q2 entry points: thin wrappers over services."""

from __future__ import annotations

import logging

from donations.errors import DonationCloseError
from donations.selectors import last_ended_month, programmes_with_organisations
from donations.services import donations_close

logger = logging.getLogger(__name__)


def close_due_donations() -> str:
    """Nightly, after the billing close: settle each programme's last ended month of donations. A month
    already closed makes nothing (only notices still missing are rendered)."""
    done = []
    for programme in programmes_with_organisations():
        year, month = last_ended_month(programme=programme)
        try:
            result = donations_close(programme=programme, year=year, month=month)
        except DonationCloseError as error:
            logger.error("donation close of %s %s-%02d failed: %s", programme, year, month, error)
            continue
        done.append(f"{programme.code} {year}-{month:02d}: {len(result.settlements)} settlements")
    return "; ".join(done) or "nothing to close"
