"""django-q2 entry points: thin wrappers over services."""

import logging

from exchange.services import exchange_lapse_due

logger = logging.getLogger(__name__)


def lapse_reservations() -> str:
    """Nightly (00:20 Tokyo, scheduled by exchange migration 0003): uncollected reservations lapse."""
    lapsed = exchange_lapse_due()
    logger.info("lapsed %s exchange reservations", lapsed)
    return f"lapsed {lapsed} reservations"
