"""Every write to members and cards goes through here."""

from __future__ import annotations

import hmac
import re
import unicodedata
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from common.bulk import Rows, ids_take
from common.crypto import blind_index
from members.models import Card, CardEvent, Consent, Member
from members.services.consents import (
    consent_record,
    consents_end,
    consents_end_many,
    consents_from_flags_many,
)

PERSONAL_FIELDS = ("name", "name_kana", "address", "phone", "email", "birth_date")
_BIDX_OF = {"name": "name_bidx", "name_kana": "kana_bidx", "phone": "phone_bidx", "email": "email_bidx"}
_BIDX_PURPOSE = {"name": "member.name", "name_kana": "member.kana", "phone": "member.phone", "email": "member.email"}

IDM_RE = re.compile(r"^[0-9A-F]{16}$")
PROGRAMME_RE = re.compile(r"^\d{16}$")
MOBILE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class CardNumberError(ValueError):
    pass


class CardInUseError(ValueError):
    """The number already identifies a card; `card.member` says whose it is."""

    def __init__(self, message: str, *, card: Card):
        super().__init__(message)
        self.card = card


def card_number_normalise(*, number: str, card_type: str) -> str:
    """Canonical card number for its type; raises CardNumberError when malformed."""
    # Spaces and hyphens group the digits of printed card numbers; a mobile
    # token is opaque, so only surrounding whitespace goes.
    raw = re.sub(r"[\s-]", "", number or "")
    if card_type == Card.CardType.TRANSIT_IC:
        value = raw.upper()
        if not IDM_RE.match(value):
            raise CardNumberError(_("A transit IC card IDm is 16 hexadecimal digits."))
        return value
    if card_type == Card.CardType.PROGRAMME:
        if not PROGRAMME_RE.match(raw):
            raise CardNumberError(_("A programme card number is 16 digits."))
        return raw
    if card_type == Card.CardType.MOBILE:
        raw = (number or "").strip()
        if not MOBILE_RE.match(raw):
            raise CardNumberError(_("A mobile token is 8 to 64 letters, digits, '-' or '_'."))
        return raw
    raise CardNumberError(_("Unknown card type."))


REGISTRATION_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def card_registration_code(*, card: Card) -> str:
    """The code printed with a card's registration notice (on the receipt of an unregistered card, on a new
    card's mount): 8 characters keyed on the card's search index, so it needs no column and proves that whoever
    types it held the receipt or the card. Shown as XXXX-XXXX."""
    digest = int(blind_index("card.registration", card.number_bidx, exact=True)[:10], 16)
    letters = "".join(REGISTRATION_CODE_ALPHABET[(digest >> (5 * n)) & 31] for n in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def card_registration_code_matches(*, card: Card, code: str) -> bool:
    """Whether code, as typed (any case, with or without the hyphen, full-width), is the card's."""
    typed = re.sub(r"[\s\-‐－ー―]", "", unicodedata.normalize("NFKC", code or "")).upper()
    return hmac.compare_digest(typed, card_registration_code(card=card).replace("-", ""))


def card_number_index(number: str) -> str:
    """Search key of a card number already in its canonical form (card_number_normalise)."""
    return blind_index("card.number", number, exact=True)


def _searchable(field: str, value: str) -> str:
    """Phone numbers are compared by their digits alone, however they were typed."""
    if field == "phone":
        return re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    return value


def personal_data_indexes(values: dict[str, Any]) -> dict[str, str]:
    """The blind-index columns for the searchable personal fields present in values."""
    return {
        _BIDX_OF[field]: (blind_index(_BIDX_PURPOSE[field], _searchable(field, str(value))) if value else "")
        for field, value in values.items()
        if field in _BIDX_OF
    }


def member_set_personal_data(*, member: Member, save: bool = True, **values: Any) -> Member:
    """Set personal fields together with their blind indexes."""
    unknown = set(values) - set(PERSONAL_FIELDS)
    if unknown:
        raise TypeError(f"not personal fields: {sorted(unknown)}")
    for field, value in values.items():
        setattr(member, field, value if value is not None else ("" if field != "birth_date" else None))
    for column, digest in personal_data_indexes(values).items():
        setattr(member, column, digest)
    if save:
        member.save()
    return member


@transaction.atomic
def member_register(
    *,
    member: Member | None = None,
    terms_version: str,
    personal: dict[str, Any],
    attributes: dict[str, Any] | None = None,
    consents: dict[str, bool] | None = None,
    channel: str = Consent.Channel.COUNTER,
    staff=None,
) -> Member:
    """Register a person: a new member, or the provisional member behind a card first seen at a till. The
    consents given (purpose → given) are recorded in the consent ledger, every purpose asked, with the terms
    version agreed."""
    member = member or Member()
    if member.status == Member.Status.WITHDRAWN:
        raise ValueError(_("A withdrawn member cannot be registered again."))
    for field, value in (attributes or {}).items():
        setattr(member, field, value)
    now = timezone.now()
    member.terms_version = terms_version
    member.terms_agreed_at = now
    if member.status == Member.Status.UNREGISTERED:
        member.status = Member.Status.ACTIVE
        member.registered_at = now
    member = member_set_personal_data(member=member, **personal)
    if consents is not None:
        consent_record(
            member=member, choices=consents, channel=channel, staff=staff, policy_version=terms_version, every=True
        )
    return member


def member_suspend(*, member: Member, staff) -> Member:
    """Stop the member's cards at every till until reinstated; audited with the staff member."""
    return _status_change(
        member,
        Member.Status.ACTIVE,
        Member.Status.SUSPENDED,
        staff=staff,
        refused=_("Only an active member can be suspended."),
        summary=gettext_noop("member suspended"),
    )


def member_reinstate(*, member: Member, staff) -> Member:
    return _status_change(
        member,
        Member.Status.SUSPENDED,
        Member.Status.ACTIVE,
        staff=staff,
        refused=_("Only a suspended member can be reinstated."),
        summary=gettext_noop("member reinstated"),
    )


def _status_change(member: Member, before: str, after: str, *, staff, refused: str, summary: str) -> Member:
    # Conditional UPDATE: the in-memory status may be stale (another desk may
    # have withdrawn the member meanwhile).
    with transaction.atomic():
        if not Member.objects.filter(pk=member.pk, status=before).update(status=after):
            raise ValueError(refused)
        member.status = after
        audit_record(actor=staff, action=AuditEvent.Action.ACTION, obj=member, summary=summary)
    return member


def member_erase(
    *, member: Member, merged_into: Member | None = None, channel: str = Consent.Channel.COUNTER, staff=None
) -> Member:
    """Erase personal data and end the membership and every consent; the pseudonym and the ledger remain.

    Helper: runs inside the caller's transaction (lifecycle.services.member_withdraw or member_merge).
    """
    member_set_personal_data(member=member, save=False, **{field: None for field in PERSONAL_FIELDS})
    member.status = Member.Status.WITHDRAWN
    member.withdrawn_at = timezone.now()
    member.merged_into = merged_into
    member.save()
    consents_end(member=member, channel=channel, staff=staff)
    for card in member.cards.filter(status=Card.Status.ACTIVE):
        card_block(card=card, note="withdrawal")
    return member


def card_find(*, number: str) -> Card | None:
    """The card with this number, with its member's plain columns: the member's personal data is read (and
    decrypted) only if asked for, which a till's lookup never does."""
    # The index is unique: no ORDER BY for .first() to compose, on every till request.
    found = (
        Card.objects.select_related("member")
        .defer(*(f"member__{field}" for field in PERSONAL_FIELDS))
        .filter(number_bidx=card_number_index(number))[:1]
    )
    return next(iter(found), None)


def card_create(*, number: str, card_type: str, member: Member | None = None, store_code: str = "", staff=None) -> Card:
    """A new card; without a member, a provisional (unregistered) member is created to hold its points."""
    number = card_number_normalise(number=number, card_type=card_type)
    with transaction.atomic():
        member = member or Member.objects.create()
        card = Card.objects.create(
            member=member,
            card_type=card_type,
            number=number,
            number_bidx=card_number_index(number),
            number_last4=number[-4:],
            first_seen_store_code=store_code,
        )
        CardEvent.objects.create(card=card, member=member, kind=CardEvent.Kind.CREATED, staff=staff)
    return card


def card_get_or_create(*, number: str, card_type: str, store_code: str = "") -> tuple[Card, bool]:
    """The card for a number touched at a till; an unknown card is created on the spot.

    Safe when two tills touch the same new card at once: the unique blind
    index decides, and the loser reads the winner's card.
    """
    number = card_number_normalise(number=number, card_type=card_type)
    card = card_find(number=number)
    if card is not None:
        return card, False
    try:
        with transaction.atomic():
            return card_create(number=number, card_type=card_type, store_code=store_code), True
    except IntegrityError:
        card = card_find(number=number)
        if card is None:
            raise
        return card, False


def card_block(*, card: Card, staff=None, note: str = "") -> Card:
    Card.objects.filter(pk=card.pk).update(status=Card.Status.BLOCKED, status_changed_at=timezone.now())
    card.status = Card.Status.BLOCKED
    CardEvent.objects.create(card=card, member=card.member, kind=CardEvent.Kind.BLOCKED, staff=staff, note=note)
    return card


def card_attach(*, member: Member, number: str, card_type: str, staff) -> Card:
    """Give a member a new card from the back office.

    A number that already identifies a card is refused with CardInUseError:
    a card held by a provisional member carries points, which only the member
    merge may move (with its ledger transfer), never a plain re-attachment.
    """
    number = card_number_normalise(number=number, card_type=card_type)
    if member.status == Member.Status.WITHDRAWN:
        raise ValueError(_("A card cannot be attached to a withdrawn member."))
    existing = card_find(number=number)
    if existing is not None:
        raise CardInUseError(card_in_use_message(card=existing, member=member), card=existing)
    try:
        with transaction.atomic():
            card = card_create(number=number, card_type=card_type, member=member, staff=staff)
            audit_record(
                actor=staff,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("card attached"),
                detail={"card": card.pk, "card_type": card.card_type},
            )
            return card
    except IntegrityError:
        # Another desk or a till created the same card a moment ago.
        existing = card_find(number=number)
        if existing is None:
            raise
        raise CardInUseError(card_in_use_message(card=existing, member=member), card=existing) from None


def card_in_use_message(*, card: Card, member: Member | None) -> str:
    """Why a number that already identifies a card cannot be given to member."""
    holder = card.member
    if member is not None and holder.pk == member.pk:
        return _("This card is already attached to this member.")
    if holder.status == Member.Status.UNREGISTERED:
        return _(
            "This card already belongs to the provisional member %(pseudonym)s, who may hold points. "
            "Use the member merge function to move that member (and the card) into this one."
        ) % {"pseudonym": holder.pseudonym}
    return _("This card already belongs to another member (%(pseudonym)s).") % {"pseudonym": holder.pseudonym}


def cards_transfer(*, cards: list[Card], target: Member, staff, note: str) -> None:
    """Cards (locked by the caller) now belong to target, each with an event saying so. Helper for a merge:
    runs inside the caller's transaction."""
    for card in cards:
        Card.objects.filter(pk=card.pk).update(member=target)
        CardEvent.objects.create(card=card, member=target, kind=CardEvent.Kind.ATTACHED, staff=staff, note=note[:200])


# --- many at once: a programme's members brought over from its old system (legacy.services) ---------------


def members_create_many(members: list[Member], *, staff=None) -> None:
    """Write new members in bulk and give each its primary key: unsaved instances whose personal data was set
    with member_set_personal_data(save=False), so it is encrypted and indexed exactly as one by one. Inside the
    caller's transaction."""
    fields = [field for field in Member._meta.concrete_fields if not field.primary_key]
    columns = ["id", *(field.attname for field in fields)]
    for member, pk in zip(members, ids_take(Member, len(members)), strict=True):
        member.pk = pk
    Rows(Member, columns).insert(
        (
            (member.pk, *(field.get_db_prep_save(field.pre_save(member, True), connection) for field in fields))
            for member in members
        ),
        prepared=True,
    )
    for member in members:
        member._state.adding = False
    consents_from_flags_many(members, channel=Consent.Channel.IMPORT, staff=staff)


CARD_COLUMNS = (
    "id",
    "member_id",
    "card_type",
    "number",
    "number_bidx",
    "number_last4",
    "status",
    "replaced_by_id",
    "status_changed_at",
    "first_seen_store_code",
    "created_at",
)
CARD_EVENT_COLUMNS = ("card_id", "member_id", "kind", "other_card_id", "staff_id", "note", "at")


def card_number_checked(*, number: str, card_type: str) -> tuple[str, str]:
    """A card number in its canonical form for its type, and its search index (CardNumberError if malformed):
    what a card written in bulk is found by at a till."""
    number = card_number_normalise(number=number, card_type=card_type)
    return number, card_number_index(number)


def cards_create_many(*, cards: list[tuple[int, str, str, str]], note: str, staff=None) -> list[int]:
    """Write new cards in bulk: (member id, card type, number, status `active` or `blocked`) each, numbers as
    card_number_checked gives them; each card gets its `created` event (and `blocked` for a blocked one).
    Returns the cards' primary keys in order. Inside the caller's transaction; a number already in use fails
    the insert (the blind index is unique)."""
    now = timezone.now()
    number_field = Card._meta.get_field("number")
    ids = ids_take(Card, len(cards))
    rows, events = [], []
    staff_id = getattr(staff, "pk", None)
    for pk, (member_id, card_type, number, status) in zip(ids, cards, strict=True):
        number, index = card_number_checked(number=number, card_type=card_type)
        blocked = status == Card.Status.BLOCKED
        rows.append(
            (
                pk,
                member_id,
                card_type,
                number_field.get_prep_value(number),
                index,
                number[-4:],
                Card.Status.BLOCKED if blocked else Card.Status.ACTIVE,
                None,
                now if blocked else None,
                "",
                now,
            )
        )
        events.append((pk, member_id, CardEvent.Kind.CREATED, None, staff_id, note, now))
        if blocked:
            events.append((pk, member_id, CardEvent.Kind.BLOCKED, None, staff_id, note, now))
    Rows(Card, CARD_COLUMNS).insert(rows)
    Rows(CardEvent, CARD_EVENT_COLUMNS).insert(events)
    return ids


def members_erase_many(*, member_ids: list[int], note: str, staff=None, release_card_numbers: bool = False) -> None:
    """End many memberships at once as member_erase ends one: personal data erased, status withdrawn, active
    cards blocked (each with its event). With `release_card_numbers` the cards' numbers are erased too and
    their search index freed, so the same numbers can be given out again (an import rolled back, to be made
    again with corrected files). Set-based, inside the caller's transaction."""
    now = timezone.now()
    erased = {field: None if field == "birth_date" else "" for field in PERSONAL_FIELDS}
    staff_id = getattr(staff, "pk", None)
    for start in range(0, len(member_ids), 5_000):
        chunk = member_ids[start : start + 5_000]
        Member.objects.filter(pk__in=chunk).update(
            **erased,
            **dict.fromkeys(_BIDX_OF.values(), ""),
            status=Member.Status.WITHDRAWN,
            withdrawn_at=now,
            opt_in_mail_magazine=False,
            opt_in_direct_mail=False,
            opt_in_targeted_offers=False,
        )
        consents_end_many(member_ids=chunk, channel=Consent.Channel.IMPORT, staff=staff)
        active = Card.objects.filter(member_id__in=chunk, status=Card.Status.ACTIVE)
        blocked = list(active.values_list("pk", "member_id"))
        active.update(status=Card.Status.BLOCKED, status_changed_at=now)
        Rows(CardEvent, CARD_EVENT_COLUMNS).insert(
            (card_id, member_id, CardEvent.Kind.BLOCKED, None, staff_id, note, now) for card_id, member_id in blocked
        )
        if release_card_numbers:
            Card.objects.filter(member_id__in=chunk).update(
                number="", number_bidx=Concat(Value("released:"), Cast("id", CharField()))
            )
