"""One account's ledger, kept in memory and written as points.services would have written it.

The services lock rows and read lots back from the database; a history
generated member by member, in time order, needs neither. What stays the
same is every row: the kinds and signs of entries, a lot per incoming entry
(issuing store, expiry by `expiry_date`), a lot use per slice of a lot that
an outgoing entry took, oldest expiry first, and a cached balance equal to
what the lots hold. `manage.py verify_ledger` checks exactly that.
"""

from __future__ import annotations

import datetime
import itertools
import random
import uuid
from collections import Counter

from points.models import Account, Entry, Lot, LotUse, Programme
from points.seeding.loader import Batch, Ids, Table
from points.services import expiry_date

ENTRIES = Table(
    Entry,
    [
        "id",
        "account_id",
        "kind",
        "points",
        "operation",
        "idempotency_key",
        "card_id",
        "store_id",
        "terminal_id",
        "staff_id",
        "amount_yen",
        "receipt_no",
        "reverses_id",
        "reason",
        "funder",
        "occurred_at",
        "recorded_at",
    ],
)
LOTS = Table(
    Lot,
    [
        "id",
        "account_id",
        "entry_id",
        "store_id",
        "origin_id",
        "points",
        "remaining",
        "earned_at",
        "expires_on",
        "merchant_id",
        "purchased",
    ],
)
LOT_USES = Table(LotUse, ["id", "entry_id", "lot_id", "points"])

# Positions in a lot row (a list, because spending changes what remains until the row is written).
LOT_ID, LOT_REMAINING, LOT_EARNED_AT, LOT_EXPIRES_ON = 0, 6, 7, 8
NIGHTLY_EXPIRY = datetime.timedelta(days=1, minutes=5)


class Expiry:
    """`points.services.expiry_date`, asked once per month of earning."""

    def __init__(self, programme: Programme):
        self.programme = programme
        self._by_month: dict[tuple[int, int], datetime.date] = {}

    def __call__(self, earned_at: datetime.datetime) -> datetime.date:
        month = (earned_at.year, earned_at.month)
        found = self._by_month.get(month)
        if found is None:
            found = self._by_month[month] = expiry_date(programme=self.programme, earned_at=earned_at)
        return found


class Book:
    """A member's account in one programme: its lots in spending order and its balance."""

    def __init__(
        self,
        *,
        member_id: int,
        programme_id: int,
        ids: Ids,
        batch: Batch,
        rng: random.Random,
        expiry: Expiry,
        kinds: Counter,
    ):
        self.ids = ids
        self.batch = batch
        self.rng = rng
        self.expiry = expiry
        self.kinds = kinds
        self.account = Account(id=ids.take(Account), member_id=member_id, programme_id=programme_id, balance=0, debt=0)
        batch.add(self.account)
        # Lots are made in time order and expire by month of earning, so appending
        # keeps them sorted by (expires_on, earned_at, id), the order spending takes them.
        self.lots: list[list] = []
        self.first_open = 0

    @property
    def balance(self) -> int:
        return self.account.balance

    def entry(
        self,
        *,
        kind: str,
        points: int,
        at: datetime.datetime,
        card_id=None,
        store_id=None,
        terminal_id=None,
        staff_id=None,
        amount_yen=None,
        receipt_no="",
        reverses_id=None,
        reason="",
    ) -> int:
        """Write an entry (recorded when it occurred: this is history) and return its id."""
        entry_id = self.ids.take(Entry)
        self.batch.row(
            ENTRIES,
            (
                entry_id,
                self.account.id,
                kind,
                points,
                uuid.UUID(int=self.rng.getrandbits(128), version=4),
                f"seed:{entry_id}",
                card_id,
                store_id,
                terminal_id,
                staff_id,
                amount_yen,
                receipt_no,
                reverses_id,
                reason,
                "",  # funder: the seed writes no campaign bonuses
                at,
                at,
            ),
        )
        self.account.updated_at = at
        self.kinds[kind] += 1
        return entry_id

    def credit(self, entry_id: int, points: int, *, at: datetime.datetime, store_id: int | None) -> list:
        """As points.services.ledger._credit for an account without debt: the points become a lot."""
        # id, account, entry, store, origin, points, remaining, earned_at, expires_on, merchant, purchased
        lot = [self.ids.take(Lot), self.account.id, entry_id, store_id, None, points, points, at, self.expiry(at)]
        lot += [None, False]
        self.batch.row(LOTS, lot)
        self.lots.append(lot)
        self.account.balance += points
        return lot

    def debit(self, entry_id: int, points: int, *, first: tuple[list, ...] = ()) -> None:
        """As points.services.ledger._debit: the given lots first, then soonest-expiring first; never below zero."""
        if points > self.account.balance:
            raise ValueError(f"account {self.account.id} cannot give {points} of {self.account.balance} points")
        need = points
        for lot in itertools.chain(first, itertools.islice(self.lots, self.first_open, None)):
            if not need:
                break
            taken = min(lot[LOT_REMAINING], need)
            if taken:
                lot[LOT_REMAINING] -= taken
                need -= taken
                self.batch.row(LOT_USES, (self.ids.take(LotUse), entry_id, lot[LOT_ID], taken))
        while self.first_open < len(self.lots) and not self.lots[self.first_open][LOT_REMAINING]:
            self.first_open += 1
        self.account.balance -= points

    def expire_before(self, day: datetime.date) -> None:
        """What the nightly job would have expired by `day`: one entry per night with lapsed lots."""
        while self.first_open < len(self.lots) and self.lots[self.first_open][LOT_EXPIRES_ON] < day:
            expires_on = self.lots[self.first_open][LOT_EXPIRES_ON]
            same_night = itertools.takewhile(
                lambda lot, night=expires_on: lot[LOT_EXPIRES_ON] == night,
                itertools.islice(self.lots, self.first_open, None),
            )
            lapsed = tuple(lot for lot in same_night if lot[LOT_REMAINING])
            total = sum(lot[LOT_REMAINING] for lot in lapsed)
            tz = self.lots[self.first_open][LOT_EARNED_AT].tzinfo
            at = datetime.datetime.combine(expires_on, datetime.time(), tzinfo=tz) + NIGHTLY_EXPIRY
            self.debit(self.entry(kind=Entry.Kind.EXPIRE, points=-total, at=at), total, first=lapsed)
