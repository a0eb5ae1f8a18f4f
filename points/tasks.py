"""django-q2 entry points: thin wrappers over services."""

import logging

from points.services import points_expire_lapsed
from points.services.verification import points_verify_ledger

logger = logging.getLogger(__name__)


def expire_lapsed_lots() -> str:
    accounts, points = points_expire_lapsed()
    logger.info("expired %s points on %s accounts", points, accounts)
    return f"expired {points} points on {accounts} accounts"


def verify_ledger() -> str:
    """The nightly verification: deep, from the checkpoint, which it moves to the start of the day before."""
    verification = points_verify_ledger(deep=True)
    if verification.problems:
        problems = "; ".join(str(problem) for problem in verification.problems)
        logger.error("ledger verification failed: %s", problems)
        raise RuntimeError(f"ledger verification failed: {problems}")
    through = verification.through.entry if verification.through else 0
    return f"ledger OK through entry #{through} ({verification.seconds:.1f} s)"
