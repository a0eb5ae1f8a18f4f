"""The contract: what a terminal sends and gets back, version 1.

Requests are parsed strictly: no coercion of "100" to 100, no unknown
fields, time zones required. The OpenAPI document is generated from these
models, so the contract and the validation cannot drift apart.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, model_validator

from points.services import MAX_AMOUNT_YEN, MAX_POINTS

CardType = Literal["transit_ic", "programme", "mobile"]
# Printed on receipts and stored as text; PostgreSQL refuses NUL in text, and no till means a control character.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CardRef(Strict):
    type: CardType = Field(
        description="transit_ic: the reader's IDm (16 hex digits); programme: 16 digits; mobile: token"
    )
    number: str = Field(min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")


class Item(Strict):
    code: str = Field(min_length=1, max_length=40)
    category: str = Field(default="", max_length=40)
    quantity: int = Field(ge=1, le=10_000)
    amount_yen: int = Field(ge=0, le=MAX_AMOUNT_YEN)


class EarnRequest(Strict):
    card: CardRef
    amount_yen: int = Field(ge=0, le=MAX_AMOUNT_YEN, description="Purchase amount in yen, tax included")
    receipt_no: str = Field(min_length=1, max_length=50, pattern=NO_CONTROL_CHARACTERS)
    occurred_at: AwareDatetime = Field(description="When the purchase happened at the till, with its offset")
    items: list[Item] = Field(default_factory=list, max_length=500)


class SpendRequest(Strict):
    card: CardRef
    points: int = Field(ge=1, le=MAX_POINTS, description="Points to spend; 1 point = 1 yen")
    amount_yen: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_YEN)
    receipt_no: str = Field(min_length=1, max_length=50, pattern=NO_CONTROL_CHARACTERS)
    occurred_at: AwareDatetime
    programme: str | None = Field(
        default=None,
        max_length=20,
        pattern=NO_CONTROL_CHARACTERS,
        description="The code of the programme whose points are spent, at a store in several; omit for the "
        "store's primary programme",
    )


class PurchasePointsRequest(Strict):
    card: CardRef
    amount_yen: int = Field(ge=1, le=1_000_000, description="Yen paid; as many points are bought (1 point = 1 yen)")
    receipt_no: str = Field(min_length=1, max_length=50, pattern=NO_CONTROL_CHARACTERS)
    occurred_at: AwareDatetime
    programme: str | None = Field(
        default=None,
        max_length=20,
        pattern=NO_CONTROL_CHARACTERS,
        description="The code of the programme whose points are bought; omit for the store's primary programme",
    )


class VoidRequest(Strict):
    transaction_id: uuid.UUID = Field(description="The transaction_id of the earn or spend answer")
    refund_amount_yen: int | None = Field(
        default=None, ge=1, le=MAX_AMOUNT_YEN, description="Part of the purchase refunded; omit to void it all"
    )
    occurred_at: AwareDatetime


class ExpiringPoints(Strict):
    date: datetime.date
    points: int


class CardState(Strict):
    type: CardType
    last4: str
    known: bool
    registered: bool
    created_now: bool = False


class Bonus(Strict):
    name: str
    points: int


class PointsThisTime(Strict):
    base: int
    bonuses: list[Bonus]
    total: int


class RallyLine(Strict):
    """One point rally on the receipt: this purchase's stamp and the progress towards the next goal."""

    rally: str = Field(description="The rally's name, to print")
    stamp: bool = Field(description="This purchase earned a stamp")
    goal_name: str | None
    stamped: int = Field(description="Progress so far, in `unit`")
    goal: int | None = Field(description="The size of the goal shown; null when the rally has none left")
    unit: Literal["stores", "stamps"]
    progress: str = Field(description='"3/5"')
    text: str = Field(description="Ready to print, e.g. 3/5店舗")
    stores_stamped: int
    reached: list[str] = Field(description="Goals this purchase reached (their rewards are in points.bonuses)")
    stamp_removed: bool = Field(description="This void or refund took the purchase's stamp back")
    taken_back: list[str] = Field(description="Goal rewards this void took back")


class ReceiptCoupon(Strict):
    """A coupon this purchase earned, to print on the receipt."""

    code: str = Field(description="What the till sends to /coupons/redeem")
    printed_code: str = Field(description="The code as printed, e.g. ABCD-EFGH")
    name: str
    benefit: Literal["discount_yen", "bonus_points"]
    discount_yen: int = Field(description="The discount the store gives (discount_yen coupons), else 0")
    bonus_points: int = Field(description="The points given when presented (bonus_points coupons), else 0")
    valid_until: datetime.date = Field(description="The last day it can be used (Asia/Tokyo)")
    where: str = Field(description="Where it can be used, as printed")


class RankLine(Strict):
    """The member's rank in the programme (programmes with ranks only), to print."""

    name: str = Field(description="The rank now, e.g. シルバー")
    benefits: str = Field(description="The rank's benefits as the programme words them (may be empty)")
    next_rank: str | None = Field(description="The next rank up, or null at the top")
    to_next_yen: int | None = Field(
        description="Purchases (yen) still needed in the qualifying period for the next rank; 0: reached, "
        "applies from the next evaluation; null at the top"
    )
    to_keep_yen: int | None = Field(
        description="Purchases (yen) still needed to keep this rank at the next evaluation, or null if kept"
    )
    text: str = Field(description="The line to print, e.g. ゴールドまであと 12,300円")


class ProgrammeReceiptLine(Strict):
    """One programme's part of the receipt or the card lookup, at a store in one or several programmes."""

    programme: str = Field(description="The programme's code")
    name: str = Field(description="The programme's name, as printed")
    points: PointsThisTime | None = Field(description="Points this time in the programme (null on a card lookup)")
    balance: int
    debt: int
    expiring_soon: list[ExpiringPoints]
    rank: RankLine | None = Field(default=None, description="The member's rank (programmes with ranks), else null")
    purchased: int | None = Field(
        default=None,
        description="Of the balance, the points bought for money (a prepaid payment instrument, shown apart from "
        "free points), in a programme that sells points; else null",
    )
    usable_here: int | None = Field(
        default=None,
        description="Of the balance, the points that can be spent at this store (a company's own points are "
        "spent only at its stores); on a card lookup and a spend, else null",
    )


class Receipt(Strict):
    """Everything a receipt prints: the top level is the primary programme's, `programmes` each one's."""

    transaction_id: uuid.UUID | None
    card: CardState
    points: PointsThisTime
    balance: int
    debt: int
    expiring_soon: list[ExpiringPoints]
    registration_notice: str | None
    registration_code: str | None = Field(
        default=None,
        description="For a card not yet registered: the code to print with the notice, which the member types "
        "with the card number on the member site (/my/register/) to register the card; else null",
    )
    rank: RankLine | None = Field(default=None, description="The member's rank (programmes with ranks), else null")
    programmes: list[ProgrammeReceiptLine] = Field(
        default_factory=list, description="Each programme's points, balance and expiring points, primary first"
    )
    coupons: list[ReceiptCoupon] = Field(default_factory=list, description="Coupons this purchase earned, to print")
    rally: list[RallyLine] = Field(default_factory=list, description="Point rallies this purchase took part in")
    coupons_withdrawn: list[str] = Field(
        default_factory=list,
        description="On a void: printed codes of the coupons the purchase earned that can no longer be used",
    )


class RedeemRequest(Strict):
    code: str = Field(
        min_length=8, max_length=20, pattern=NO_CONTROL_CHARACTERS, description="The coupon's code, as printed or typed"
    )
    occurred_at: AwareDatetime
    receipt_no: str = Field(default="", max_length=50, pattern=r"^[^\x00-\x1f\x7f]*$")


class Redemption(Strict):
    code: str
    printed_code: str
    name: str
    benefit: Literal["discount_yen", "bonus_points"]
    discount_yen: int = Field(description="The discount to give now (discount_yen coupons), else 0")
    bonus_points: int = Field(description="The points given (bonus_points coupons), else 0")
    redeemed_at: datetime.datetime
    transaction_id: uuid.UUID | None = Field(description="The bonus's transaction (bonus_points coupons), else null")
    balance: int | None = Field(description="The member's balance after the bonus (bonus_points coupons), else null")


class CardLookup(Strict):
    card: CardState
    balance: int
    debt: int
    expiring_soon: list[ExpiringPoints]
    rank: RankLine | None = Field(default=None, description="The member's rank (programmes with ranks), else null")
    programmes: list[ProgrammeReceiptLine] = Field(
        default_factory=list, description="Each programme's balance and expiring points, primary first"
    )


class DayLine(Strict):
    transaction_id: uuid.UUID
    kind: str
    points: int
    amount_yen: int | None
    receipt_no: str
    occurred_at: datetime.datetime
    recorded_at: datetime.datetime


class DayTotal(Strict):
    kind: str
    count: int
    points: int
    amount_yen: int


class Day(Strict):
    date: datetime.date
    terminal: str
    lines: list[DayLine]
    totals: list[DayTotal]


class ErrorBody(Strict):
    code: str
    message: str
    details: list[dict] = Field(default_factory=list)


class ErrorResponse(Strict):
    error: ErrorBody


# --- the offline batch (POST /api/v1/batch) ------------------------------------------

MAX_BATCH_ITEMS = 10_000
ItemKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        description="The item's own idempotency key: the Idempotency-Key it had, or would have had, alone",
    ),
]


class BatchEarn(EarnRequest):
    op: Literal["earn"]
    key: ItemKey


class BatchSpend(SpendRequest):
    op: Literal["spend"]
    key: ItemKey


class BatchVoid(Strict):
    """Void or refund by transaction id, or by the key of the earlier item or request that made the purchase."""

    op: Literal["void"]
    key: ItemKey
    transaction_id: uuid.UUID | None = None
    void_key: ItemKey | None = None
    refund_amount_yen: int | None = Field(default=None, ge=1, le=MAX_AMOUNT_YEN)
    occurred_at: AwareDatetime

    @model_validator(mode="after")
    def _one_reference(self):
        if (self.transaction_id is None) == (self.void_key is None):
            raise ValueError("Give either transaction_id or void_key.")
        return self


BatchItem = Annotated[BatchEarn | BatchSpend | BatchVoid, Field(discriminator="op")]


class BatchRequest(Strict):
    items: list[BatchItem] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS, description="Applied in order of occurred_at, then of position"
    )


class BatchItemResult(Strict):
    key: str | None
    op: str | None
    status: Literal["applied", "already_applied", "rejected"]
    http_status: int = Field(description="What the item would have got as a single request")
    result: Receipt | None
    error: ErrorBody | None


class BatchCounts(Strict):
    applied: int
    already_applied: int
    rejected: int


class BatchResponse(Strict):
    results: list[BatchItemResult] = Field(description="One per item, in the order of the request")
    counts: BatchCounts


class BatchAccepted(Strict):
    """A batch of more than TERMINAL_API_BATCH_INLINE_MAX items: stored, to be applied in the background."""

    batch_id: uuid.UUID
    status: Literal["queued"]
    status_url: str = Field(description="GET it (with the same bearer secret) for the progress and the answer")
    items: int


class BatchAnswer(RootModel[BatchResponse | BatchAccepted]):
    """200: the batch was applied at once (BatchResponse); 202: it was queued (BatchAccepted)."""


class BatchStatus(Strict):
    batch_id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="failed: the batch was given up after repeated crashes; upload it again with a new "
        "Idempotency-Key (what was applied is answered already_applied)"
    )
    items: int
    applied_so_far: int = Field(description="Items answered so far")
    counts: BatchCounts | None = Field(description="When done: the counts of the answer POST /batch gives at once")
    results: list[BatchItemResult] | None = Field(
        description="When done: one per item, in the order of the request, as POST /batch gives them at once"
    )
