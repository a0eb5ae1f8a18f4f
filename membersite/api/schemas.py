"""The member API's contract: what the member's app sends and gets back, version 1.

Requests are parsed strictly, as the terminal API's are (api.schemas.Strict: no coercion, no unknown fields);
what a member types is then checked by the member site's own forms (membersite.forms), so the site and the
app refuse the same values with the same messages. The OpenAPI document is generated from these models.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from pydantic import Field

from api.schemas import RankLine, ReceiptCoupon, Strict
from coupons.models import Coupon
from donations.models import Donation
from members.models import Card
from membersite.forms import CardCodeForm, DonationForm, EmailForm, PaymentCardForm, ProfileForm, WithdrawForm
from qrpoints.services import Outcome
from qrpoints.tokens import QrKind


def _length_of(form, name: str) -> int:
    """The longest value the site's form field takes: the body is refused past it before the form is asked."""
    return form.base_fields[name].max_length


CardType = Literal["transit_ic", "programme", "mobile"]
PurposeKey = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
Choices = Annotated[
    dict[PurposeKey, bool],
    Field(
        max_length=100,
        description="Each purpose's answer by its `key` (GET /me/consents); a purpose left out is not given",
    ),
]


# --- signing in --------------------------------------------------------------------------------------------


class LinkRequest(Strict):
    email: str = Field(min_length=3, max_length=_length_of(EmailForm, "email"), description="The member's e-mail")


class LinkSent(Strict):
    message: str = Field(description="What to tell the member, the same whether or not the address is known")
    minutes: int = Field(description="How long the link works")


class SessionRequest(Strict):
    token: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"^[A-Za-z0-9_:.=-]+$",
        description="The `token` query value of the link mailed to the member",
    )


class Session(Strict):
    session: str = Field(description="The session's secret: send it as `Authorization: Bearer <session>`; shown once")
    expires_at: datetime.datetime


# --- registering a card from its receipt -------------------------------------------------------------------


class CardCheckRequest(Strict):
    number: str = Field(min_length=1, max_length=_length_of(CardCodeForm, "number"), description="As printed")
    code: str = Field(
        min_length=1, max_length=_length_of(CardCodeForm, "code"), description="The registration code on the receipt"
    )


class CardBrief(Strict):
    card_type: CardType
    last4: str


class ConsentLine(Strict):
    """A purpose the member is asked about, with their answer now."""

    key: str = Field(description="What the requests name the purpose by: a purpose, or third_party_<id>")
    label: str
    detail: str = Field(description="For a third party: the purpose of the provision and the items provided")
    given: bool
    at: datetime.datetime | None = Field(description="When the member last answered; null if never")


class Policy(Strict):
    version: str
    title: str
    summary: str
    url: str = Field(description="The full text, or empty")
    in_force_from: datetime.datetime


class RegistrationTicket(Strict):
    ticket: str = Field(description="Send it with the person's details to POST /registrations")
    expires_at: datetime.datetime
    card: CardBrief
    consents: list[ConsentLine] = Field(description="The purposes to ask about")
    policy: Policy | None = Field(description="The policy in force, which the member agrees to by registering")


class Personal(Strict):
    """The member's details, one set for every programme."""

    name: str = Field(min_length=1, max_length=_length_of(ProfileForm, "name"))
    name_kana: str = Field(min_length=1, max_length=_length_of(ProfileForm, "name_kana"))
    email: str = Field(default="", max_length=_length_of(ProfileForm, "email"))
    phone: str = Field(default="", max_length=_length_of(ProfileForm, "phone"))
    postal_code: str = Field(default="", max_length=_length_of(ProfileForm, "postal_code"))
    address: str = Field(default="", max_length=_length_of(ProfileForm, "address"))


class RegistrationRequest(Personal):
    ticket: str = Field(min_length=1, max_length=500, description="From POST /registrations/check")
    consents: Choices = Field(default_factory=dict)
    agree: Literal[True] = Field(description="The person agrees to the terms and the privacy policy")


# --- the member's own pages -------------------------------------------------------------------------------


class Balance(Strict):
    programme: str = Field(description="The programme's code")
    name: str
    balance: int
    debt: int
    purchased: int | None = Field(
        description="Of the balance, the points bought for money, in a programme that sells points; else null"
    )


class ExpiringMonth(Strict):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="The month the points expire in, YYYY-MM")
    programme_name: str
    points: int


class ProgrammeRank(Strict):
    programme: str = Field(description="The programme's code")
    programme_name: str
    rank: RankLine


class HeldCoupon(ReceiptCoupon):
    """A coupon of the member's: those still held first (soonest to lapse first), then the latest others."""

    status: Literal[tuple(Coupon.Status.values)]


class RallyProgress(Strict):
    name: str
    ends_at: datetime.datetime
    stamps: int
    stores: int = Field(description="Stores the stamps were earned at")
    goals: int
    goals_reached: int


class QrClaimLine(Strict):
    event: str = Field(description="The event's name")
    points: int = Field(description="The points credited")
    claimed_at: datetime.datetime


class FlyerRightLine(Strict):
    flyer: str = Field(description="The flyer's name")
    points: int = Field(description="The flyer's points, credited at a visit to one of its stores")
    scanned_at: datetime.datetime
    valid_until: datetime.datetime = Field(description="The visit must be before this moment")
    credited_at: datetime.datetime | None = Field(description="When a visit credited the points; null until then")
    store: str | None = Field(description="The store whose visit credited the points; null until then")


class QrPoints(Strict):
    claims: list[QrClaimLine] = Field(description="The events' points the member claimed, newest first")
    rights: list[FlyerRightLine] = Field(
        description="The flyers the member scanned, newest first: credited, or waiting for a visit"
    )


class Overview(Strict):
    pseudonym: str = Field(description="The member's id, as the secretariat knows it")
    status: str
    balances: list[Balance]
    expiring: list[ExpiringMonth] = Field(description="The points held, by month of expiry, soonest first")
    ranks: list[ProgrammeRank] = Field(description="In each programme with ranks")
    coupons: list[HeldCoupon]
    rallies: list[RallyProgress]
    qr: QrPoints = Field(description="The latest QR event claims and flyer rights, as on the member site's page")


class HistoryEntry(Strict):
    transaction_id: uuid.UUID
    kind: str
    kind_label: str
    points: int
    programme: str = Field(description="The programme's code")
    store: str | None = Field(description="The store's name, if a store")
    reason: str
    occurred_at: datetime.datetime
    recorded_at: datetime.datetime


class History(Strict):
    entries: list[HistoryEntry] = Field(description="The latest entries, newest first")


class Profile(Strict):
    name: str
    name_kana: str
    email: str
    phone: str
    postal_code: str
    address: str


class ProfileUpdate(Strict):
    """The details to change; a field left out (or null) stays as it is."""

    name: str | None = Field(default=None, max_length=_length_of(ProfileForm, "name"))
    name_kana: str | None = Field(default=None, max_length=_length_of(ProfileForm, "name_kana"))
    email: str | None = Field(default=None, max_length=_length_of(ProfileForm, "email"))
    phone: str | None = Field(default=None, max_length=_length_of(ProfileForm, "phone"))
    postal_code: str | None = Field(default=None, max_length=_length_of(ProfileForm, "postal_code"))
    address: str | None = Field(default=None, max_length=_length_of(ProfileForm, "address"))


class Consents(Strict):
    consents: list[ConsentLine]


class ConsentsUpdate(Strict):
    consents: Choices


class PolicyState(Strict):
    needed: bool = Field(description="The member must answer this policy before anything else")
    policy: Policy | None = Field(description="The policy in force, if any")
    consents: list[ConsentLine]


class PolicyAnswer(Strict):
    consents: Choices
    agree: Literal[True] = Field(description="The member agrees to the policy in force")


class CardLine(Strict):
    id: int
    card_type: CardType
    last4: str
    status: Literal[tuple(Card.Status.values)]
    status_changed_at: datetime.datetime | None
    created_at: datetime.datetime
    can_report_lost: bool
    can_move: bool = Field(description="The card's place can move to a new card (POST …/move)")


class Cards(Strict):
    cards: list[CardLine]


class CardMoveRequest(CardCheckRequest):
    card_type: CardType = Field(description="The new card's type")


class WithdrawalRequest(Strict):
    confirm: str = Field(
        min_length=1,
        max_length=_length_of(WithdrawForm, "confirm"),
        description="退会, typed by the member after a second warning in the app",
    )


class Withdrawn(Strict):
    pseudonym: str
    status: Literal["withdrawn"]


# --- donations ---------------------------------------------------------------------------------------------


class OrganisationBrief(Strict):
    id: int = Field(description="Send it as `organisation_id` to donate")
    name: str
    programme: str = Field(description="The programme's code: the points are taken from its balance")
    programme_name: str


class Organisation(OrganisationBrief):
    purpose: str = Field(description="What the donations are used for")
    website: str = Field(description="The organisation's website, or empty")


class Organisations(Strict):
    organisations: list[Organisation] = Field(
        description="The organisations taking donations today, in the programmes the member holds points in"
    )


class DonationRequest(Strict):
    organisation_id: int = Field(ge=1, description="The `id` of an organisation of GET /organisations")
    points: int = Field(ge=1, le=DonationForm.base_fields["points"].max_value)
    key: uuid.UUID = Field(
        description="A UUID the app makes for this donation and sends again on a retry: one key donates once"
    )


class DonationLine(Strict):
    id: int
    organisation: OrganisationBrief
    points: int
    channel: Literal[tuple(Donation.Channel.values)] = Field(
        description="Where it was made: the member site, the app (api) or the secretariat's desk"
    )
    created_at: datetime.datetime


class Donated(DonationLine):
    balance: int = Field(description="The member's balance in the programme now, after the donation")


class Donations(Strict):
    donations: list[DonationLine] = Field(description="The latest donations, newest first")


# --- QR points ---------------------------------------------------------------------------------------------


class QrScanRequest(Strict):
    token: str = Field(
        min_length=1,
        max_length=1000,
        description="The scanned code: the whole URL it holds (…/my/qr/<token>/), or the token in it",
    )


class QrScanned(Strict):
    kind: Literal[tuple(QrKind.values)] = Field(
        description="event: an event's points; flyer: a flyer's right; visit: a store's visit code"
    )
    outcome: Literal[tuple(outcome.value for outcome in Outcome if outcome != Outcome.INVALID)] = Field(
        description="What the scan did: credited, right_taken (a flyer kept for a visit), or why nothing was credited"
    )
    points: int = Field(description="The points this scan credited; 0 if none")
    message: str = Field(description="What to show the member")
    name: str = Field(description="The event's, the flyer's or the store's name")


# --- card-linked offers --------------------------------------------------------------------------------------


class OfferLine(Strict):
    id: int
    title: str
    description: str
    merchant: str = Field(description="The company whose stores make the offer")
    stores: list[str] = Field(description="The names of the stores where it applies")
    starts_at: datetime.datetime
    ends_at: datetime.datetime = Field(description="The offer ends before this moment")
    benefit: Literal["yen", "points"] = Field(description="yen: money back; points: points credited")
    benefit_fixed: int = Field(description="The fixed benefit per purchase (yen or points)")
    benefit_rate_bp: int = Field(description="The benefit's rate in 1/100 % of the purchase (500 = 5 %)")
    benefit_cap: int | None = Field(description="The largest benefit of one purchase; null: no cap")
    min_purchase_yen: int
    waiting_days: int = Field(description="The benefit is paid this many days after the purchase")
    areas: list[str] = Field(
        description="Areas (geohash cells or postal areas) where the app may remind the member, decided on the "
        "phone: the API never receives the member's position"
    )
    activated: bool
    uses: int = Field(description="The member's purchases that qualified so far")
    per_member_limit: int


class Offers(Strict):
    offers: list[OfferLine] = Field(description="The running offers that reach the member, soonest ending first")


class OfferActivateRequest(Strict):
    offer_id: int = Field(description="The id of one of the offers GET /me/offers lists")


# --- payment cards linked for card-linked offers --------------------------------------------------------------


class PaymentCardLine(Strict):
    id: int
    last4: str = Field(description="The last four characters of the card's token: the token is never shown whole")
    masked: str = Field(description="The card as the member site shows it (…1234)")
    created_at: datetime.datetime = Field(description="When the member linked it")


class PaymentCards(Strict):
    payment_cards: list[PaymentCardLine] = Field(description="The member's linked payment cards, oldest first")


class PaymentCardLinkRequest(Strict):
    token: str = Field(
        max_length=_length_of(PaymentCardForm, "token"),
        description="The card token the card issuer gives for the card (8 to 64 letters, digits, _ or -); a card "
        "number is refused and never stored",
    )
