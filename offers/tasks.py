"""The offers' schedule: pay the benefits whose waiting period has ended (django-q2, daily)."""

from offers.services import offers_settle_due


def settle_due_offers() -> int:
    return offers_settle_due()
