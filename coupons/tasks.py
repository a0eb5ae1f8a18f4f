"""django-q2 entry points: thin wrappers over services."""

import logging

from coupons.services import coupons_expire_lapsed

logger = logging.getLogger(__name__)


def expire_lapsed_coupons() -> str:
    expired = coupons_expire_lapsed()
    logger.info("expired %s coupons", expired)
    return f"expired {expired} coupons"
