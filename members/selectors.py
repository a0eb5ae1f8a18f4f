"""Finding members and cards by what staff type at the desk.

Personal data is encrypted, so nothing here filters on clear text: every
lookup is an exact match on a blind index (or the clear pseudonym), each one
an indexed equality, so a search costs the same on 100 or 100,000 members.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from members.models import Card, Consent, Member, ThirdParty
from members.services import CardNumberError, card_number_index, card_number_normalise, personal_data_indexes
from members.services.consents import PLAIN_PURPOSES, current_states

PSEUDONYM_RE = re.compile(r"^M[A-HJ-NP-Z2-9]{10}$")
# What a phone number may look like when typed: digits and separators only.
PHONE_LIKE_RE = re.compile(r"^\+?[\d\s()\-‐－ー―]+$")


def card_number_indexes(query: str) -> list[str]:
    """Blind indexes of query read as each card type's number (IDm, programme number, mobile token)."""
    indexes = []
    for card_type in Card.CardType.values:
        try:
            number = card_number_normalise(number=query, card_type=card_type)
        except CardNumberError:
            continue
        digest = card_number_index(number)
        if digest not in indexes:
            indexes.append(digest)
    return indexes


def card_search(*, query: str) -> QuerySet[Card]:
    """Cards whose number (any type) or holder's pseudonym is exactly query."""
    text = unicodedata.normalize("NFKC", query or "").strip()
    if not text:
        return Card.objects.none()
    condition = Q(number_bidx__in=card_number_indexes(text))
    if PSEUDONYM_RE.match(text.upper()):
        condition |= Q(member__pseudonym=text.upper())
    return Card.objects.filter(condition)


def member_search(*, query: str) -> QuerySet[Member]:
    """Members matching query exactly by name, kana, phone, e-mail, card number or pseudonym.

    Normalisation (spaces, full and half width, hiragana and katakana, case,
    hyphens) is the blind index's own, so "やまだ たろう" finds ﾔﾏﾀﾞﾀﾛｳ and
    "03-1234-5678" finds 0312345678.
    """
    text = unicodedata.normalize("NFKC", query or "").strip()
    if not text:
        return Member.objects.none()

    typed = {"name": text, "name_kana": text}
    if "@" in text:
        typed["email"] = text
    if PHONE_LIKE_RE.match(text) and re.search(r"\d", text):
        typed["phone"] = re.sub(r"\D", "", text)
    # Each present index column is one indexed equality; OR-ed they make one query.
    condition = Q()
    for column, digest in personal_data_indexes(typed).items():
        condition |= Q(**{column: digest})
    if PSEUDONYM_RE.match(text.upper()):
        condition |= Q(pseudonym=text.upper())
    card_numbers = card_number_indexes(text)
    if card_numbers:
        # A separate small query rather than a subquery: an IN (SELECT ...)
        # inside an OR defeats the index union on PostgreSQL.
        holders = list(Card.objects.filter(number_bidx__in=card_numbers).values_list("member_id", flat=True))
        if holders:
            condition |= Q(pk__in=holders)
    return Member.objects.filter(condition)


# --- consent at the moment of use ----------------------------------------------------------------------------


def _newest_given(purpose: str, third_party_id: int | None):
    """The newest consent row's `given` for the outer member and this purpose (None when there is none)."""
    return Subquery(
        Consent.objects.filter(member=OuterRef("pk"), purpose=purpose, third_party_id=third_party_id)
        .order_by("-at", "-id")
        .values("given")[:1]
    )


def members_consenting(queryset: QuerySet[Member], *, purpose: str, third_party_id: int | None = None):
    """The members of queryset whose consent to purpose holds now, read from the consent ledger (not from
    the flags): what every use of members' data (a mail, an offer's targeting, an export) filters by, at the
    moment it uses them."""
    return (
        queryset.filter(status=Member.Status.ACTIVE)
        .annotate(_consent=_newest_given(purpose, third_party_id))
        .filter(_consent=True)
    )


def consent_holds(*, member_id: int, purpose: str, third_party_id: int | None = None) -> bool:
    """Whether the member's consent to purpose holds this instant (one member, just before a use)."""
    one = Member.objects.filter(pk=member_id)
    return members_consenting(one, purpose=purpose, third_party_id=third_party_id).exists()


@dataclass(frozen=True)
class ConsentLine:
    """A member's answer for one purpose now, for the pages that show it (the member page, the member site)."""

    key: str  # the purpose, or third_party_<id> for a named third party
    label: str
    detail: str
    given: bool
    at: datetime.datetime | None
    channel: str


def consent_lines(*, member_id: int) -> list[ConsentLine]:
    """Every purpose a member is asked about (each active third party, and any they answered for), with their
    answer now, when and how they gave it: two queries."""
    states = current_states(member_id)
    lines = []
    for purpose in PLAIN_PURPOSES:
        row = states.get(purpose)
        lines.append(
            ConsentLine(
                purpose,
                str(Consent.Purpose(purpose).label),
                "",
                bool(row and row.given),
                row.at if row else None,
                row.get_channel_display() if row else "",
            )
        )
    answered = {key[1] for key in states if isinstance(key, tuple)}
    for party in ThirdParty.objects.filter(Q(active=True) | Q(pk__in=answered)).order_by("name"):
        row = states.get((Consent.Purpose.THIRD_PARTY, party.pk))
        lines.append(
            ConsentLine(
                f"third_party_{party.pk}",
                f"{Consent.Purpose.THIRD_PARTY.label}: {party.name}",
                f"{party.purpose} ({party.items})",
                bool(row and row.given),
                row.at if row else None,
                row.get_channel_display() if row else "",
            )
        )
    return lines


def consent_key_of_field(name: str):
    """The consent key (members.services.consents) of a consent line's key."""
    if name.startswith("third_party_"):
        return (Consent.Purpose.THIRD_PARTY, int(name.removeprefix("third_party_")))
    return name
