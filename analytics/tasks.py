"""django-q2 entry points: thin wrappers over services."""

import logging

from analytics.services import analytics_refresh, analytics_refresh_today

logger = logging.getLogger(__name__)


def refresh_summaries() -> str:
    """After midnight: every day since the last final one, yesterday included, becomes final."""
    done = analytics_refresh()
    logger.info("analytics summaries refreshed from %s to %s in %.1f s", done.first_day, done.last_day, done.seconds)
    return f"refreshed {done.first_day}..{done.last_day} in {done.seconds:.1f} s"


def refresh_today() -> str:
    """Every few minutes: today's figures, as the ledger grows."""
    done = analytics_refresh_today()
    return f"refreshed {done.first_day}..{done.last_day} in {done.seconds:.1f} s"
