"""Reads of the QR points worth a name: a member's claims and flyer rights (the member page, the member
site), and who claimed an event."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from qrpoints.models import FlyerRight, QrClaim


@dataclass(frozen=True)
class MemberQrPoints:
    claims: list[QrClaim]
    rights: list[FlyerRight]


def member_qr_points(
    *, member_id: int, programme_ids: Collection[int] | None = None, limit: int = 50
) -> MemberQrPoints:
    """The member's event claims and flyer rights (of the programmes named, or all), newest first, with their
    events, flyers, entries and stores."""
    claims = QrClaim.objects.filter(member_id=member_id).select_related("event", "entry")
    rights = FlyerRight.objects.filter(member_id=member_id).select_related("flyer", "entry", "redeemed_store")
    if programme_ids is not None:
        claims = claims.filter(event__programme_id__in=programme_ids)
        rights = rights.filter(flyer__programme_id__in=programme_ids)
    return MemberQrPoints(
        claims=list(claims.order_by("-claimed_at", "-pk")[:limit]),
        rights=list(rights.order_by("-scanned_at", "-pk")[:limit]),
    )
