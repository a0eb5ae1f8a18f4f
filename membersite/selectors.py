"""What the member sees of themselves: each read is the owning app's selector, asked for this member only."""

from __future__ import annotations

from dataclasses import dataclass, field

from coupons.selectors import member_coupons
from members.models import Card, Member
from members.selectors import ConsentLine, consent_lines
from members.selectors import consent_key_of_field as consent_key_of_field  # for the site and the API
from points.selectors import member_accounts, member_points_expiring_by_month, member_recent_history
from qrpoints.selectors import member_qr_points
from rallies.selectors import member_rallies
from ranks.selectors import member_ranks

HISTORY_LINES = 50


@dataclass
class Overview:
    member: Member
    accounts: list = field(default_factory=list)
    expiring: list = field(default_factory=list)
    ranks: list = field(default_factory=list)
    coupons: list = field(default_factory=list)
    rallies: list = field(default_factory=list)
    qr: object | None = None


def member_overview(*, member: Member) -> Overview:
    """Balances per programme, points expiring by month, ranks and what remains to the next, coupons held,
    rally progress, QR event claims and flyer rights."""
    return Overview(
        member=member,
        accounts=member_accounts(member_id=member.pk),
        expiring=member_points_expiring_by_month(member_id=member.pk),
        ranks=member_ranks(member_id=member.pk),
        coupons=member_coupons(member_id=member.pk, limit=20),
        rallies=member_rallies(member_id=member.pk),
        qr=member_qr_points(member_id=member.pk, limit=10),
    )


def member_history(*, member: Member, limit: int = HISTORY_LINES) -> list:
    """The member's ledger entries, newest first (card events are on the cards page)."""
    return [line.entry for line in member_recent_history(member_id=member.pk, limit=limit, card_events=False)]


def member_cards(*, member: Member) -> list[Card]:
    return list(Card.objects.filter(member=member).defer("number").order_by("-status", "-created_at", "-pk"))


def member_consent_lines(*, member: Member) -> list[ConsentLine]:
    """Every purpose the member is asked about, with their answer now and when they gave it."""
    return consent_lines(member_id=member.pk)
