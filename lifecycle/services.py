"""The member's lifecycle: a merge of two records of one person, a card replaced, a withdrawal.

Each is one durable transaction that moves (or ends) everything each app holds for the member, through the
small helpers those apps offer, which assume the transaction is open: points' accounts, members' cards and
personal data, coupons, rally stamps and goals, exchanges and reservations. Locks are taken as a till takes
them, so that a purchase arriving meanwhile waits and then lands on the right member: the cards of every
member involved, then the members' rows, then the accounts, each kind in primary-key order. The audit row is
written inside, with the staff member who did it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record
from coupons.services import coupons_transfer
from exchange.services import exchange_reservations_release, exchange_transfer
from members import services as members
from members.models import Card, CardEvent, Consent, Member
from points import errors
from points.services import accounts_forfeit, accounts_transfer, cards_lock
from qrpoints.services import qr_transfer
from rallies.services import rally_transfer


def member_merge(*, source: Member, target: Member, staff, reason: str = "") -> dict:
    """Two records of one person become one: target keeps its personal data and gains everything of source
    (points and lots, cards, coupons, stamps and goals, exchanges, QR claims and flyer rights); source's personal
    data is erased as on a withdrawal. Returns what moved, as written in the audit row."""
    with transaction.atomic(durable=True):
        cards_lock(member_ids=[source.pk, target.pk])
        source, target = _lock_members(source.pk, target.pk)
        moved = _merge(source=source, target=target, staff=staff, reason=reason or _("member merge"))
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=target,
            summary=gettext_noop("members merged"),
            detail={"merged_from": source.pseudonym, "reason": reason, **moved},
        )
        return moved


def card_replace(*, old_card: Card, new_number: str, new_card_type: str, staff, reason: str = "") -> Card:
    """A lost or broken card: the new card takes over, the old one stops working at once.

    Points belong to the member, so they follow the new card; if the new card had already collected points
    on its own (touched at a till before it was brought to the desk), its provisional member is merged into
    the member in the same transaction.
    """
    number = members.card_number_normalise(number=new_number, card_type=new_card_type)
    with transaction.atomic(durable=True):
        existing = members.card_find(number=number)
        member_ids = {old_card.member_id} | ({existing.member_id} if existing else set())
        locked = {card.pk: card for card in cards_lock(member_ids=member_ids)}
        old = locked.get(old_card.pk)
        # A card reported lost (blocked) is replaced as a broken one is: its member's points follow the new card.
        if old is None or old.status not in (Card.Status.ACTIVE, Card.Status.BLOCKED):
            raise errors.InvalidOperation(_("Only an active or stopped card can be replaced."))
        member, *others = _lock_members(old.member_id, *(member_ids - {old.member_id}))
        if member.status == Member.Status.WITHDRAWN:
            raise errors.InvalidOperation(_("The card of a withdrawn member cannot be replaced."))
        merged = {}
        if existing is None:
            new = members.card_create(number=number, card_type=new_card_type, member=member, staff=staff)
        else:
            new = locked[existing.pk]
            if new.pk == old.pk or new.status != Card.Status.ACTIVE:
                raise errors.InvalidOperation(_("The new card must be a different, active card."))
            if others:
                (other,) = others
                if other.is_registered:
                    raise errors.InvalidOperation(
                        _("The new card belongs to another registered member; merge the members first.")
                    )
                merged = _merge(source=other, target=member, staff=staff, reason=reason or _("card replacement"))
                new.refresh_from_db()
        Card.objects.filter(pk=old.pk).update(
            status=Card.Status.REPLACED, replaced_by=new, status_changed_at=timezone.now()
        )
        CardEvent.objects.create(
            card=old, member=member, kind=CardEvent.Kind.REPLACED, other_card=new, staff=staff, note=reason[:200]
        )
        CardEvent.objects.create(
            card=new, member=member, kind=CardEvent.Kind.ATTACHED, other_card=old, staff=staff, note=reason[:200]
        )
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=member,
            summary=gettext_noop("card replaced"),
            detail={"old_card": old.pk, "new_card": new.pk, "reason": reason, **merged},
        )
        return new


def member_withdraw(*, member: Member, staff, reason: str = "", channel: str = Consent.Channel.COUNTER) -> Member:
    """退会: reservations are cancelled, the remaining points forfeited (an expire entry), personal data erased,
    every consent ended (through `channel`) and cards blocked. The ledger keeps its history under the member's
    pseudonym."""
    with transaction.atomic(durable=True):
        cards_lock(member_ids=[member.pk])
        (member,) = _lock_members(member.pk)
        if member.status == Member.Status.WITHDRAWN:
            raise errors.InvalidOperation(_("The member has already withdrawn."))
        reason = reason or _("withdrawal")
        released = exchange_reservations_release(member=member, staff=staff, reason=reason)
        forfeited = accounts_forfeit(member=member, staff=staff, reason=reason)
        members.member_erase(member=member, channel=channel, staff=staff)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=member,
            summary=gettext_noop("member withdrawn"),
            detail={"reason": reason, "points_forfeited": forfeited, "reservations_cancelled": released},
        )
        return member


def _lock_members(*pks: int) -> list[Member]:
    """The members' rows locked in primary-key order, returned in the order asked."""
    locked = {member.pk: member for member in Member.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
    return [locked[pk] for pk in pks]


def _merge(*, source: Member, target: Member, staff, reason: str) -> dict:
    """Move everything of source to target and end source (both members' cards and rows locked)."""
    if source.pk == target.pk:
        raise errors.InvalidOperation(_("A member cannot be merged into itself."))
    if Member.Status.WITHDRAWN in (source.status, target.status):
        raise errors.InvalidOperation(_("A withdrawn member cannot be merged."))
    if source.is_registered and not target.is_registered:
        raise errors.InvalidOperation(
            _("Merge the unregistered card holder into the registered member, not the other way round.")
        )
    entries = accounts_transfer(source=source, target=target, staff=staff, reason=reason)
    cards = list(Card.objects.filter(member=source).order_by("pk"))
    members.cards_transfer(cards=cards, target=target, staff=staff, note=f"merged from {source.pseudonym}")
    moved = {
        "entries": [entry.pk for entry in entries],
        "cards": len(cards),
        "coupons": coupons_transfer(source=source, target=target),
        **rally_transfer(source=source, target=target),
        "exchanges": exchange_transfer(source=source, target=target),
        **qr_transfer(source=source, target=target),
    }
    members.member_erase(member=source, merged_into=target)
    return moved
