"""What the member sees of themselves: each read is the owning app's selector, asked for this member only."""

from __future__ import annotations

from dataclasses import dataclass, field

from coupons.selectors import member_coupons
from members.models import Card, Consent, Member, ThirdParty
from members.services.consents import PLAIN_PURPOSES, current_states
from points.selectors import member_accounts, member_points_expiring_by_month, member_recent_history
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


def member_overview(*, member: Member) -> Overview:
    """Balances per programme, points expiring by month, ranks and what remains to the next, coupons held,
    rally progress."""
    return Overview(
        member=member,
        accounts=member_accounts(member_id=member.pk),
        expiring=member_points_expiring_by_month(member_id=member.pk),
        ranks=member_ranks(member_id=member.pk),
        coupons=member_coupons(member_id=member.pk, limit=20),
        rallies=member_rallies(member_id=member.pk),
    )


def member_history(*, member: Member, limit: int = HISTORY_LINES) -> list:
    """The member's ledger entries, newest first (card events are on the cards page)."""
    return [line.entry for line in member_recent_history(member_id=member.pk, limit=limit, card_events=False)]


def member_cards(*, member: Member) -> list[Card]:
    return list(Card.objects.filter(member=member).defer("number").order_by("-status", "-created_at", "-pk"))


@dataclass(frozen=True)
class ConsentLine:
    key: str  # the form field's name: the purpose, or third_party_<id>
    label: str
    detail: str
    given: bool
    at: object | None


def member_consent_lines(*, member: Member) -> list[ConsentLine]:
    """Every purpose the member is asked about, with their answer now and when they gave it."""
    states = current_states(member.pk)
    lines = []
    for purpose in PLAIN_PURPOSES:
        row = states.get(purpose)
        label = Consent.Purpose(purpose).label
        lines.append(ConsentLine(purpose, label, "", bool(row and row.given), row.at if row else None))
    for party in ThirdParty.objects.filter(active=True).order_by("name"):
        row = states.get((Consent.Purpose.THIRD_PARTY, party.pk))
        lines.append(
            ConsentLine(
                f"third_party_{party.pk}",
                f"{Consent.Purpose.THIRD_PARTY.label}: {party.name}",
                f"{party.purpose} ({party.items})",
                bool(row and row.given),
                row.at if row else None,
            )
        )
    return lines


def consent_key_of_field(name: str):
    """The consent key (members.services.consents) of a consent form field's name."""
    if name.startswith("third_party_"):
        return (Consent.Purpose.THIRD_PARTY, int(name.removeprefix("third_party_")))
    return name
