"""Every write of the QR points: a member's scan (`scans`: an event's points, a flyer's right, a store visit
that redeems the rights, and a merge's move of them), each store's visit code (`codes`), and the staff's
events and flyers (`promotions`)."""

from qrpoints.services.codes import store_visit_code_current, store_visit_code_issue, store_visit_url
from qrpoints.services.promotions import flyer_save, qr_event_save
from qrpoints.services.scans import (
    Outcome,
    ScanResult,
    flyer_right_take,
    qr_event_claim,
    qr_scan,
    qr_transfer,
    store_visit_redeem,
)

__all__ = [
    "Outcome",
    "ScanResult",
    "flyer_right_take",
    "flyer_save",
    "qr_event_claim",
    "qr_event_save",
    "qr_scan",
    "qr_transfer",
    "store_visit_code_current",
    "store_visit_code_issue",
    "store_visit_redeem",
    "store_visit_url",
]
