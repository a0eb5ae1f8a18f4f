"""django-q2 entry points: thin wrappers over services."""

import logging

from points.services import points_expire_lapsed

logger = logging.getLogger(__name__)


def expire_lapsed_lots() -> str:
    accounts, points = points_expire_lapsed()
    logger.info("expired %s points on %s accounts", points, accounts)
    return f"expired {points} points on {accounts} accounts"
