"""The contract: what a terminal sends and gets back, version 1.

Requests are parsed strictly: no coercion of "100" to 100, no unknown
fields, time zones required. The OpenAPI document is generated from these
models, so the contract and the validation cannot drift apart.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from points.services import MAX_AMOUNT_YEN, MAX_POINTS

CardType = Literal["transit_ic", "programme", "mobile"]


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
    receipt_no: str = Field(min_length=1, max_length=50)
    occurred_at: AwareDatetime = Field(description="When the purchase happened at the till, with its offset")
    items: list[Item] = Field(default_factory=list, max_length=500)


class SpendRequest(Strict):
    card: CardRef
    points: int = Field(ge=1, le=MAX_POINTS, description="Points to spend; 1 point = 1 yen")
    amount_yen: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_YEN)
    receipt_no: str = Field(min_length=1, max_length=50)
    occurred_at: AwareDatetime


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


class Receipt(Strict):
    """Everything a receipt prints."""

    transaction_id: uuid.UUID | None
    card: CardState
    points: PointsThisTime
    balance: int
    debt: int
    expiring_soon: list[ExpiringPoints]
    registration_notice: str | None
    coupons: list[dict] = Field(default_factory=list, description="Receipt coupons (a later version fills this)")
    rally: list[dict] = Field(default_factory=list, description="Rally stamps (a later version fills this)")


class CardLookup(Strict):
    card: CardState
    balance: int
    debt: int
    expiring_soon: list[ExpiringPoints]
    rank: str | None = None


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
