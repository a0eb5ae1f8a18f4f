"""Every write of the offers app: offers saved and published, activations, purchases that qualify (at the
till, from a card issuer's file), their cancellation, payment after the waiting period, and reversal.

The budget and each member's uses are counters raised by a conditional UPDATE inside the purchase's
transaction (`budget_used + benefit <= budget`, `uses < per_member_limit`): the first that fails leaves the
row as it was, so concurrent purchases never pass either, on any database. Locks, always in this order: the
member's card and account (the till's; a points benefit's account when paying or taking back), the
redemptions, the activation row, the offer row.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from common.snapshots import RunningRows
from members.models import Member
from offers import selectors
from offers.models import Activation, CardTransaction, Offer, OfferPolicy, PaymentCard, Redemption, Reversal
from points.models import Entry, Funder, Programme
from points.services import Posting, points_account_lock, points_grant, points_take_back
from stores.models import Store


class OfferError(Exception):
    """Refused by an offer's rules; the message is for the member or the operator."""


_RUNNING = RunningRows(
    model=Offer,
    active=lambda programme_id: Offer.objects.filter(
        programme_id=programme_id, status=Offer.Status.PUBLISHED
    ).prefetch_related("stores"),
)


def offers_running_at_store(*, programme: Programme, store: Store, at: datetime.datetime) -> list[Offer]:
    """The programme's published offers running at a moment at this store (one small query while the offers
    are unchanged: a copy per process, like the campaigns')."""
    return [
        offer for offer in _RUNNING.running(programme.pk, at) if any(each.pk == store.pk for each in offer.stores.all())
    ]


# --- the merchant's and the secretariat's changes -----------------------------------------------


def offer_save(*, offer: Offer, stores: list[Store] | None = None, staff=None) -> Offer:
    """Save an offer (new or changed) with its stores; the stores must be the merchant's."""
    with transaction.atomic():
        created = offer.pk is None
        if offer.benefit_fixed == 0 and offer.benefit_rate_bp == 0:
            raise OfferError(_("An offer needs a fixed benefit or a rate."))
        offer.save()
        if stores is not None:
            if any(store.merchant_id != offer.merchant_id for store in stores):
                raise OfferError(_("An offer runs only at the merchant's own stores."))
            offer.stores.set(stores)
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ADD if created else AuditEvent.Action.CHANGE,
            obj=offer,
            summary=f"{offer.title} ({offer.get_status_display()})",
        )
    return offer


def offer_publish(*, offer: Offer, staff=None) -> Offer:
    """Publish an offer: members it reaches see it from now."""
    return _set_status(offer, Offer.Status.PUBLISHED, staff)


def offer_stop(*, offer: Offer, staff=None) -> Offer:
    """Stop an offer: no purchase qualifies from now; what qualified is still paid."""
    return _set_status(offer, Offer.Status.STOPPED, staff)


def _set_status(offer: Offer, status: str, staff) -> Offer:
    with transaction.atomic():
        offer.status = status
        offer.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.ACTION,
            obj=offer,
            summary=f"{offer.title}: {offer.get_status_display()}",
        )
    return offer


def offer_create_in_portal(*, merchant, programme: Programme, offer: Offer, stores: list[Store], user) -> Offer:
    """A merchant's own offer, created in the portal where the programme allows: a draft the secretariat
    publishes, paid by the merchant's stores, with the programme's fee."""
    policy = OfferPolicy.objects.filter(programme=programme, portal_creation=True).first()
    if policy is None:
        raise OfferError(_("This programme does not let merchants create offers."))
    offer.programme, offer.merchant = programme, merchant
    offer.status, offer.funder = Offer.Status.DRAFT, Funder.STORE
    offer.fee_per_redemption_yen = policy.fee_per_redemption_yen
    offer.created_by = user
    return offer_save(offer=offer, stores=stores, staff=user)


# --- the member -------------------------------------------------------------------------------------


def offer_activate(*, member: Member, offer: Offer, at: datetime.datetime | None = None) -> Activation:
    """The member activates an offer that reaches them (their consent to targeted offers read now); a second
    activation returns the first."""
    at = at or timezone.now()
    existing = Activation.objects.filter(offer=offer, member=member).first()
    if existing is not None:
        return existing
    if offer.status != Offer.Status.PUBLISHED or not (offer.starts_at <= at < offer.ends_at):
        raise OfferError(_("This offer is not running."))
    if not selectors.offer_fits(offer=offer, member_id=member.pk):
        raise OfferError(_("This offer is not available to you."))
    try:
        with transaction.atomic():
            return Activation.objects.create(offer=offer, member=member, activated_at=at)
    except IntegrityError:
        return Activation.objects.get(offer=offer, member=member)


def payment_card_link(*, member: Member, token: str) -> PaymentCard:
    """Link a payment card's token (from the card issuer) to the member. The token is checked first
    (payment_card_token_checked: a card number is refused and never stored); a token linked to another
    member is refused without saying whose; the same member linking it again gets the link they have; a
    member links at most PAYMENT_CARDS_PER_MEMBER cards (their row locked while counting, so concurrent
    links never pass it)."""
    token = payment_card_token_checked(token)
    with transaction.atomic():
        Member.objects.select_for_update().only("pk").get(pk=member.pk)  # one member's links, one at a time
        existing = PaymentCard.objects.filter(token=token).first()
        if existing is not None:
            if existing.member_id != member.pk:
                raise _token_taken()
            return existing
        if PaymentCard.objects.filter(member=member).count() >= PAYMENT_CARDS_PER_MEMBER:
            raise PaymentCardError(
                _("You can link at most %(count)s cards. Remove one you no longer use first.")
                % {"count": PAYMENT_CARDS_PER_MEMBER},
                code="payment_cards_full",
            )
        try:
            with transaction.atomic():
                return PaymentCard.objects.create(member=member, token=token)
        except IntegrityError:  # linked by another member a moment ago
            raise _token_taken() from None


PAYMENT_CARDS_PER_MEMBER = 5
TOKEN_LENGTH = (8, 64)
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# Between the digits of a card number as people type it: spaces and hyphens, half- or full-width.
_CARD_NUMBER_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d")
# A run of this many digits or more, once the separators are taken out, is a card number (13 to 19 digits),
# never a token, and never stored.
_CARD_NUMBER_DIGITS = 13


class PaymentCardError(OfferError):
    """A card token refused: `code` says why (card_number: a card number typed instead of a token,
    card_token_invalid, card_token_taken, payment_cards_full, not_found)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def _token_taken() -> PaymentCardError:
    return PaymentCardError(
        _("This card token cannot be linked: it is already linked to another membership."), code="card_token_taken"
    )


def payment_card_token_checked(token: str) -> str:
    """The token as stored (spaces around it taken off), or PaymentCardError: anything holding a card number
    (13 digits or more in a row, with or without spaces or hyphens, full-width too) is refused as one; a token
    is 8 to 64 letters, digits, _ or -."""
    token = (token or "").strip()
    if _looks_like_a_card_number(token):
        raise PaymentCardError(
            _("This looks like a card number. Enter the card token from your card issuer, never the card number."),
            code="card_number",
        )
    low, high = TOKEN_LENGTH
    if not (low <= len(token) <= high and set(token) <= _TOKEN_CHARACTERS):
        raise PaymentCardError(
            _("Enter the card token from your card issuer: 8 to 64 letters, digits, hyphens (-) or underscores (_)."),
            code="card_token_invalid",
        )
    return token


def _looks_like_a_card_number(text: str) -> bool:
    run = 0
    for character in text:
        if character.isspace() or character in _CARD_NUMBER_SEPARATORS:
            continue
        run = run + 1 if character.isdigit() else 0
        if run >= _CARD_NUMBER_DIGITS:
            return True
    return False


def payment_card_unlink(*, member: Member, card_id: int) -> PaymentCard:
    """Remove one of the member's own links (another member's id is not found). The card file's lines of that
    token match no member from then on; what qualified before stays, and a return still finds its purchase."""
    with transaction.atomic():
        card = PaymentCard.objects.select_for_update().filter(member=member, pk=card_id).first()
        if card is None:
            raise PaymentCardError(_("No such card."), code="not_found")
        card.delete()
    return card


# --- purchases that qualify -------------------------------------------------------------------------


def _in_hours(offer: Offer, at: datetime.datetime) -> bool:
    local = timezone.localtime(at)
    if offer.weekdays and local.weekday() not in offer.weekdays:
        return False
    if offer.hour_from is not None and local.hour < offer.hour_from:
        return False
    return not (offer.hour_to is not None and local.hour >= offer.hour_to)


def _meets(offer: Offer, amount_yen: int, at: datetime.datetime) -> bool:
    if amount_yen < offer.min_purchase_yen:
        return False
    if offer.max_purchase_yen is not None and amount_yen > offer.max_purchase_yen:
        return False
    return offer.starts_at <= at < offer.ends_at and _in_hours(offer, at)


def _due_on(offer: Offer, at: datetime.datetime) -> datetime.date:
    """The purchase's payment date plus the offer's waiting period."""
    return timezone.localdate(at) + datetime.timedelta(days=offer.waiting_days)


def offer_qualify(
    *,
    offer: Offer,
    activation: Activation,
    store: Store,
    amount_yen: int,
    occurred_at: datetime.datetime,
    source: str,
    purchase: Entry | None = None,
    card_transaction: CardTransaction | None = None,
) -> Redemption | None:
    """Record a qualifying purchase if the member's limit and the budget allow (both raised by conditional
    UPDATEs in the caller's transaction); None when either is used up, or the source already qualified."""
    benefit = offer.benefit_for(amount_yen)
    if benefit <= 0:
        return None
    if Redemption.objects.filter(offer=offer, source=source).exists():
        return None
    counted = Activation.objects.filter(pk=activation.pk, uses__lt=offer.per_member_limit).update(uses=F("uses") + 1)
    if not counted:
        return None
    funded = Offer.objects.filter(pk=offer.pk, budget_used__lte=F("budget") - benefit).update(
        budget_used=F("budget_used") + benefit
    )
    if not funded:
        Activation.objects.filter(pk=activation.pk).update(uses=F("uses") - 1)
        return None
    return Redemption.objects.create(
        offer=offer,
        activation=activation,
        member_id=activation.member_id,
        store=store,
        source=source,
        purchase=purchase,
        card_transaction=card_transaction,
        amount_yen=amount_yen,
        benefit=benefit,
        fee_yen=offer.fee_per_redemption_yen,
        occurred_at=occurred_at,
        due_on=_due_on(offer, occurred_at),
    )


def _qualifying(offers: list[Offer], member_id: int, store: Store, amount_yen: int, at) -> list:
    """(offer, activation) for each running offer here that the member activated and the purchase meets."""
    meeting = [offer for offer in offers if _meets(offer, amount_yen, at)]
    if not meeting:
        return []
    by_offer = {offer.pk: offer for offer in meeting}
    activations = Activation.objects.filter(member_id=member_id, offer_id__in=list(by_offer)).order_by("pk")
    return [(by_offer[a.offer_id], a) for a in activations]


def offers_after_earn(
    *, posting: Posting, store: Store, programme: Programme, amount_yen: int, occurred_at: datetime.datetime
) -> list[Redemption]:
    """The till's step: the purchase qualifies for each activated offer it meets (in the earning's
    transaction). A programme with no offer running at the store costs one small question; a retried
    purchase (same earn entry) never qualifies twice."""
    offers = offers_running_at_store(programme=programme, store=store, at=occurred_at)
    if not offers:
        return []
    earn = posting.entries[0]
    found = []
    for offer, activation in _qualifying(offers, posting.account.member_id, store, amount_yen, occurred_at):
        redemption = offer_qualify(
            offer=offer,
            activation=activation,
            store=store,
            amount_yen=amount_yen,
            occurred_at=occurred_at,
            source=f"till:{earn.pk}",
            purchase=earn,
        )
        if redemption is not None:
            found.append(redemption)
    return found


def offers_after_void(*, original_entry: Entry, refund_amount_yen: int | None = None) -> int:
    """A voided or partly refunded till purchase (its void entries already written): each benefit it
    qualified for is set to what the rest of the purchase earns (see `_after_return`). Read from the ledger,
    so a retried void changes nothing more."""
    remaining = 0
    if refund_amount_yen is not None and original_entry.amount_yen:
        refunded = Entry.objects.filter(reverses=original_entry).aggregate(yen=Sum("amount_yen"))["yen"] or 0
        remaining = max(original_entry.amount_yen - refunded, 0)
    return _after_return(Redemption.objects.filter(source=f"till:{original_entry.pk}"), remaining_yen=remaining)


def _after_return(redemptions, *, remaining_yen: int) -> int:
    """A return left `remaining_yen` of the purchase: each benefit becomes what that amount earns under its
    offer (nothing below the minimum), never more than it was. Still waiting, it is reduced, or cancelled
    with its use given back; paid, the difference is taken back (`_take_back`). Either way the difference
    goes back to the budget. Rows locked in primary-key order; returns how many changed."""
    changed = 0
    for redemption in redemptions.select_for_update().select_related("offer").order_by("pk"):
        offer = redemption.offer
        earns = offer.benefit_for(remaining_yen) if remaining_yen >= max(offer.min_purchase_yen, 1) else 0
        if redemption.status == Redemption.Status.PENDING:
            earns = min(earns, redemption.benefit)
            if earns == 0:
                redemption.status = Redemption.Status.CANCELLED
                Activation.objects.filter(pk=redemption.activation_id).update(uses=F("uses") - 1)
            elif (earns, remaining_yen) == (redemption.benefit, redemption.amount_yen):
                continue
            Offer.objects.filter(pk=offer.pk).update(budget_used=F("budget_used") - (redemption.benefit - earns))
            redemption.amount_yen, redemption.benefit = remaining_yen, earns or redemption.benefit
            redemption.save(update_fields=["status", "amount_yen", "benefit"])
            changed += 1
        elif redemption.status == Redemption.Status.PAID:
            changed += _take_back(redemption, earns=earns, remaining_yen=remaining_yen)
    return changed


def _lock_accounts_paid_into(redemptions) -> None:
    """Lock the accounts that points benefits are paid into before their redemptions, the till's order (card,
    account, then the offers' rows): paying, a void at the till and a card file's return of the same purchase
    then wait for each other in line, never in a circle."""
    owners = redemptions.filter(offer__benefit=Offer.Benefit.POINTS).values_list("member_id", "offer__programme_id")
    for member_id, programme_id in sorted(set(owners)):
        points_account_lock(member_id=member_id, programme=Programme(pk=programme_id))


def _take_back(redemption: Redemption, *, earns: int, remaining_yen: int) -> int:
    """A paid benefit of which the rest of its purchase now earns only `earns`: the difference taken back (a
    Reversal; points by a void of the bonus paid, into debt if they were spent), the whole of it also
    reverses the redemption, gives the fee back to the merchant and the use back to the member."""
    offer = redemption.offer
    before = redemption.reversals.aggregate(benefit=Sum("benefit"), count=Count("pk"))
    taken = before["benefit"] or 0
    back = redemption.benefit - taken - min(earns, redemption.benefit - taken)
    if back <= 0:
        # The rest still earns all of what is paid: only the purchase is smaller (the report's sales).
        if remaining_yen != redemption.amount_yen:
            redemption.amount_yen = remaining_yen
            redemption.save(update_fields=["amount_yen"])
        return 0
    whole = earns == 0
    now = timezone.now()
    entry = None
    if redemption.payout_entry_id is not None:
        posting = points_take_back(
            entry=redemption.payout_entry,
            points=back,
            idempotency_key=f"offer-redemption:{redemption.pk}/back:{before['count'] + 1}",
            reason=f"オファー取消: {offer.title}"[:300],
        )
        entry = posting.entries[0]
    Reversal.objects.create(
        redemption=redemption,
        benefit=back,
        whole=whole,
        fee_yen=redemption.fee_yen if whole else 0,
        recorded_at=now,
        points_entry=entry,
    )
    Offer.objects.filter(pk=offer.pk).update(budget_used=F("budget_used") - back)
    redemption.amount_yen = remaining_yen
    if whole:
        Activation.objects.filter(pk=redemption.activation_id).update(uses=F("uses") - 1)
        redemption.status, redemption.reversed_at = Redemption.Status.REVERSED, now
    redemption.save(update_fields=["status", "amount_yen", "reversed_at"])
    return 1


# --- settlement ---------------------------------------------------------------------------------------


def offers_settle_due(*, today: datetime.date | None = None) -> int:
    """Pay every benefit whose waiting period has ended: points as a bonus entry funded as the offer says
    (through points_grant, keyed by the redemption so a re-run pays nothing twice), or yen as a payout line
    the close bills. One short transaction per redemption; returns how many were paid."""
    today = today or timezone.localdate()
    paid = 0
    due = Redemption.objects.filter(status=Redemption.Status.PENDING, due_on__lte=today).values_list("pk", flat=True)
    for pk in list(due.order_by("pk")):
        with transaction.atomic():
            _lock_accounts_paid_into(Redemption.objects.filter(pk=pk))
            redemption = (
                Redemption.objects.select_for_update()
                .select_related("offer__programme", "store")
                .filter(pk=pk, status=Redemption.Status.PENDING)
                .first()
            )
            if redemption is None:
                continue
            offer = redemption.offer
            if offer.benefit == Offer.Benefit.POINTS:
                posting = points_grant(
                    member_id=redemption.member_id,
                    programme=offer.programme,
                    points=redemption.benefit,
                    funder=offer.funder,
                    store=redemption.store,
                    reason=f"オファー: {offer.title}"[:300],
                    idempotency_key=f"offer-redemption:{redemption.pk}",
                )
                redemption.payout_entry = posting.entries[0]
            redemption.status = Redemption.Status.PAID
            redemption.paid_at = timezone.now()
            redemption.save(update_fields=["status", "paid_at", "payout_entry"])
            paid += 1
    return paid


# --- the card issuer's file ---------------------------------------------------------------------------


class CardLine:
    """A line of the card file, parsed: card token, merchant and store code, amount (negative: a return),
    time, transaction id, and for a return the id of the purchase it returns."""

    def __init__(self, *, token, merchant_code, store_code, amount_yen, occurred_at, transaction_id, original_id=""):
        self.token = token
        self.merchant_code = merchant_code
        self.store_code = store_code
        self.amount_yen = amount_yen
        self.occurred_at = occurred_at
        self.transaction_id = transaction_id
        self.original_id = original_id


def card_transaction_import(*, line: CardLine, file_name: str = "") -> tuple[CardTransaction | None, str]:
    """One line of a card file, in its own transaction: recorded once by its transaction id (a line seen
    before changes nothing), a purchase matched to the member's activated offers at the store, a return
    matched to its purchase and taking the benefit back. Returns (the transaction, what happened)."""
    if CardTransaction.objects.filter(transaction_id=line.transaction_id).exists():
        return None, "duplicate"
    store = Store.objects.filter(code=line.store_code, merchant__code=line.merchant_code).first()
    if store is None:
        return None, "unknown_store"
    with transaction.atomic():
        original = None
        if line.amount_yen < 0:
            original = CardTransaction.objects.filter(transaction_id=line.original_id).first()
            if original is None:
                return None, "unmatched_return"
        try:
            with transaction.atomic():
                card_transaction = CardTransaction.objects.create(
                    transaction_id=line.transaction_id,
                    token=line.token,
                    store=store,
                    amount_yen=line.amount_yen,
                    occurred_at=line.occurred_at,
                    original=original,
                    file_name=file_name[:200],
                )
        except IntegrityError:
            return None, "duplicate"
        if original is not None:
            returned = -(original.returns.aggregate(yen=Sum("amount_yen"))["yen"] or 0)
            redemptions = Redemption.objects.filter(source=f"card:{original.transaction_id}")
            _lock_accounts_paid_into(redemptions)
            _after_return(redemptions, remaining_yen=max(original.amount_yen - returned, 0))
            return card_transaction, "returned"
        linked = PaymentCard.objects.filter(token=line.token).first()
        if linked is None:
            return card_transaction, "no_member"
        matched = 0
        for programme_id in store.programmes.values_list("pk", flat=True):
            offers = [
                offer
                for offer in selectors.offers_running(programme_ids=[programme_id], at=line.occurred_at)
                if offer.stores.filter(pk=store.pk).exists()
            ]
            for offer, activation in _qualifying(offers, linked.member_id, store, line.amount_yen, line.occurred_at):
                if offer_qualify(
                    offer=offer,
                    activation=activation,
                    store=store,
                    amount_yen=line.amount_yen,
                    occurred_at=line.occurred_at,
                    source=f"card:{line.transaction_id}",
                    card_transaction=card_transaction,
                ):
                    matched += 1
        return card_transaction, "matched" if matched else "no_offer"
