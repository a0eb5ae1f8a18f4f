"""Reads of the offers app: whom an offer reaches (only members consenting to targeted offers), a member's
offers, each offer's report, and what the monthly close bills per store."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from members.models import Consent, Member
from members.selectors import members_consenting
from offers.models import Activation, Offer, PaymentCard, Redemption, Reversal
from points.models import Account, Entry
from ranks.models import MemberRank

PURPOSE = Consent.Purpose.TARGETED_OFFERS


def offer_targeted(*, offer: Offer, at: datetime.datetime | None = None) -> QuerySet[Member]:
    """The members the offer reaches now: in its programme, fitting every condition, and consenting to
    targeted offers at this moment (read from the consent ledger)."""
    at = at or timezone.now()
    members = Member.objects.filter(
        Exists(Account.objects.filter(member=OuterRef("pk"), programme_id=offer.programme_id))
    )
    if offer.genders:
        members = members.filter(gender__in=offer.genders)
    year = timezone.localdate(at).year
    if offer.age_min is not None:
        members = members.filter(birth_year__lte=year - offer.age_min)
    if offer.age_max is not None:
        members = members.filter(birth_year__gte=year - offer.age_max)
    if offer.postal_prefixes:
        prefixes = Q()
        for prefix in offer.postal_prefixes:
            prefixes |= Q(postal_code__startswith=prefix)
        members = members.filter(prefixes)
    if offer.min_rank_id is not None:
        members = members.filter(
            Exists(
                MemberRank.objects.filter(
                    member=OuterRef("pk"),
                    programme_id=offer.programme_id,
                    rank__threshold_yen__gte=offer.min_rank.threshold_yen,
                )
            )
        )
    purchases = Entry.objects.filter(
        account__member=OuterRef("pk"), account__programme_id=offer.programme_id, kind=Entry.Kind.EARN
    )
    if offer.not_visited_days is not None:
        since = at - datetime.timedelta(days=offer.not_visited_days)
        members = members.exclude(
            Exists(purchases.filter(store__merchant_id=offer.merchant_id, occurred_at__gte=since))
        )
    if offer.shops_in_category:
        members = members.filter(Exists(purchases.filter(store__category=offer.shops_in_category)))
    return members_consenting(members, purpose=PURPOSE)


def offer_reach(*, offer: Offer) -> int:
    """How many members the offer reaches now (shown through common.privacy's five-member rule)."""
    return offer_targeted(offer=offer).count()


def offer_fits(*, offer: Offer, member_id: int) -> bool:
    """Whether the offer reaches this member now (consent included)."""
    return offer_targeted(offer=offer).filter(pk=member_id).exists()


def offers_running(*, programme_ids=None, at: datetime.datetime | None = None) -> QuerySet[Offer]:
    at = at or timezone.now()
    offers = Offer.objects.filter(status=Offer.Status.PUBLISHED, starts_at__lte=at, ends_at__gt=at)
    if programme_ids is not None:
        offers = offers.filter(programme_id__in=programme_ids)
    return offers


@dataclass
class MemberOffer:
    offer: Offer
    activated: bool
    uses: int


def offers_of_member(*, member: Member, at: datetime.datetime | None = None) -> list[MemberOffer]:
    """The running offers that reach the member (none without their consent), activated or not."""
    programme_ids = list(Account.objects.filter(member=member).values_list("programme_id", flat=True))
    activations = {a.offer_id: a for a in Activation.objects.filter(member=member)}
    found = []
    for offer in (
        offers_running(programme_ids=programme_ids, at=at)
        .select_related("merchant", "min_rank")
        .order_by("ends_at", "pk")
    ):
        activation = activations.get(offer.pk)
        if activation is not None or offer_fits(offer=offer, member_id=member.pk):
            found.append(MemberOffer(offer, activation is not None, activation.uses if activation else 0))
    return found


@dataclass
class OfferReport:
    offer: Offer
    reach: int
    activations: int
    purchases: int
    buyers: int
    sales_yen: int
    benefit_paid: int
    benefit_pending: int
    fees_yen: int

    @property
    def cost_yen(self) -> int:
        """What the merchant pays: yen benefits (a point counts as one yen) and the fees before tax."""
        return self.benefit_paid + self.fees_yen


def offer_report(*, offer: Offer) -> OfferReport:
    """An offer's figures: reach now, activations, qualifying purchases not cancelled or reversed, their
    sales, the benefit paid and waiting, and the fees of the benefits paid."""
    counted = offer.redemptions.filter(status__in=[Redemption.Status.PENDING, Redemption.Status.PAID])
    totals = counted.aggregate(purchases=Count("pk"), buyers=Count("member", distinct=True), sales=Sum("amount_yen"))
    paid = counted.filter(status=Redemption.Status.PAID).aggregate(benefit=Sum("benefit"), fees=Sum("fee_yen"))
    # What returns took back of benefits still paid in part.
    taken_back = Reversal.objects.filter(redemption__in=counted).aggregate(benefit=Sum("benefit"))
    pending = counted.filter(status=Redemption.Status.PENDING).aggregate(benefit=Sum("benefit"))
    return OfferReport(
        offer=offer,
        reach=offer_reach(offer=offer),
        activations=offer.activations.count(),
        purchases=totals["purchases"] or 0,
        buyers=totals["buyers"] or 0,
        sales_yen=totals["sales"] or 0,
        benefit_paid=(paid["benefit"] or 0) - (taken_back["benefit"] or 0),
        benefit_pending=pending["benefit"] or 0,
        fees_yen=paid["fees"] or 0,
    )


@dataclass
class StoreOfferFigures:
    """What the close bills a store for its offers in a period: yen paid back to members (net of returns
    after payment), and the fees of the redemptions paid (net of those reversed)."""

    cashback_yen: int = 0
    redemptions: int = 0
    fees_yen: int = 0


def period_offer_figures(*, programme, starts_at, ends_at) -> dict[int, StoreOfferFigures]:
    """Per store, the offers' yen paid back (store-funded offers) and fees (every offer) recorded in
    [starts_at, ends_at): benefits paid, less those taken back by returns (a whole one gives its fee back).
    Points paid and taken back are bonus entries and their voids, funded by the store, which the close
    already bills from the ledger; only their fees are here."""
    found: dict[int, StoreOfferFigures] = {}
    paid = (
        Redemption.objects.filter(offer__programme=programme, paid_at__gte=starts_at, paid_at__lt=ends_at)
        .values(shop=F("store_id"), kind=F("offer__benefit"), paid_by=F("offer__funder"))
        .annotate(count=Count("pk"), benefit=Sum("benefit"), fees=Sum("fee_yen"))
    )
    taken_back = (
        Reversal.objects.filter(
            redemption__offer__programme=programme, recorded_at__gte=starts_at, recorded_at__lt=ends_at
        )
        .values(
            shop=F("redemption__store_id"),
            kind=F("redemption__offer__benefit"),
            paid_by=F("redemption__offer__funder"),
        )
        .annotate(count=Count("pk", filter=Q(whole=True)), benefit=Sum("benefit"), fees=Sum("fee_yen"))
    )
    for sign, rows in ((1, paid), (-1, taken_back)):
        for row in rows:
            figures = found.setdefault(row["shop"], StoreOfferFigures())
            if row["kind"] == Offer.Benefit.YEN and row["paid_by"] == "store":
                figures.cashback_yen += sign * row["benefit"]
            figures.redemptions += sign * row["count"]
            figures.fees_yen += sign * row["fees"]
    return {store_id: f for store_id, f in found.items() if f.cashback_yen or f.fees_yen or f.redemptions}


def merchant_offers(*, merchant) -> QuerySet[Offer]:
    """The merchant's own offers, newest first."""
    return Offer.objects.filter(merchant=merchant).select_related("programme").order_by("-starts_at", "-pk")


def portal_creation_programmes(*, merchant):
    """The programmes whose policy lets this merchant's staff create offers in the portal: those its stores
    take part in."""
    from offers.models import OfferPolicy
    from points.models import Programme

    allowed = OfferPolicy.objects.filter(portal_creation=True).values("programme_id")
    return Programme.objects.filter(pk__in=allowed, stores__merchant=merchant).distinct().order_by("pk")


@dataclass
class MemberPaymentCard:
    """A linked card as the member sees it: never the whole token, only its last four characters."""

    id: int
    last4: str
    created_at: datetime.datetime

    @property
    def masked(self) -> str:
        return f"…{self.last4}"


def payment_cards_of_member(*, member: Member) -> list[MemberPaymentCard]:
    """The member's linked payment cards, oldest first, each shown by its token's last four characters."""
    return [
        MemberPaymentCard(id=pk, last4=token[-4:], created_at=created_at)
        for pk, token, created_at in PaymentCard.objects.filter(member=member)
        .order_by("created_at", "pk")
        .values_list("pk", "token", "created_at")
    ]
