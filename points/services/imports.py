"""Opening balances brought over from a programme's old system, and their rollback.

Each lot of the old system becomes one entry of kind `import` and the lot it forms, with its original
earning date, expiry and issuing store, in an account opened for a member the same import created. A
million lots are written in about a minute: keys taken ahead, COPY on PostgreSQL (common/bulk.py), one
statement per kind of row, no per-row ORM. The rollback is the ledger's usual correction, reversing entries
(`import` with negative points, each naming the entry it reverses) that take back each whole lot; it is
refused once anything else has happened in those accounts.

Both run inside the transaction of their caller (legacy.services), which also writes the members, cards,
ranks and the audit row.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from django.db import connection
from django.utils import timezone

from common.bulk import Rows, ids_take
from points import sql
from points.models import Account, Entry, Lot, LotUse, Programme

CHUNK = 50_000

# (member id, card id or None, issuing store id or None, points, earned at (aware), expires on, idempotency key)
OpeningLot = tuple[int, int | None, int | None, int, datetime.datetime, datetime.date, str]

ENTRY_COLUMNS = (
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
)
LOT_COLUMNS = (
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
)
ACCOUNT_COLUMNS = ("id", "member_id", "programme_id", "balance", "debt", "updated_at")


@dataclass(frozen=True)
class Opened:
    accounts: int
    lots: int
    points: int


def points_import_opening(
    *,
    programme: Programme,
    member_ids: Sequence[int],
    lots: Iterable[OpeningLot],
    operation: uuid.UUID,
    reason: str,
    staff=None,
    progress: Callable[[int], None] | None = None,
) -> Opened:
    """Open an account in the programme for each of `member_ids` (members created in the caller's transaction,
    so none has one yet) and credit each lot to its member's account as an `import` entry and its lot.

    The entry's `occurred_at` is the lot's original earning time, its `recorded_at` now; `progress` is told
    how many lots are written after each chunk.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("points_import_opening runs inside the caller's transaction")
    now = timezone.now()
    account_of = dict(zip(member_ids, ids_take(Account, len(member_ids)), strict=True))
    balances = dict.fromkeys(account_of.values(), 0)
    entries, lot_rows = Rows(Entry, ENTRY_COLUMNS), Rows(Lot, LOT_COLUMNS)
    staff_id = getattr(staff, "pk", None)
    kind = Entry.Kind.IMPORT
    written = total = 0
    iterator = iter(lots)
    while chunk := list(islice(iterator, CHUNK)):
        ids = ids_take(Entry, len(chunk))
        entry_rows, chunk_lots = [], []
        for entry_id, (member_id, card_id, store_id, points, earned_at, expires_on, key) in zip(
            ids, chunk, strict=True
        ):
            account_id = account_of[member_id]
            balances[account_id] += points
            entry_rows.append(
                (
                    entry_id,
                    account_id,
                    kind,
                    points,
                    operation,
                    key,
                    card_id,
                    store_id,
                    None,
                    staff_id,
                    None,
                    "",
                    None,
                    reason,
                    "",
                    earned_at,
                    now,
                )
            )
            # An old system's points are free points usable anywhere in the programme.
            chunk_lots.append(
                (account_id, entry_id, store_id, None, points, points, earned_at, expires_on, None, False)
            )
            total += points
        entries.insert(entry_rows)
        lot_rows.insert(chunk_lots)
        written += len(chunk)
        if progress is not None:
            progress(written)
    Rows(Account, ACCOUNT_COLUMNS).insert(
        (account_id, member_id, programme.pk, balances[account_id], 0, now)
        for member_id, account_id in account_of.items()
    )
    return Opened(accounts=len(account_of), lots=written, points=total)


# --- the rollback ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touch:
    """Something that happened to an imported member's points after the import."""

    member: str  # the member's pseudonym
    kind: str  # the entry's kind, as the ledger shows it
    at: datetime.datetime


@dataclass(frozen=True)
class Touches:
    used: int  # lot uses of the imported lots (a spend, an expiry, a transfer, an exchange ...)
    other_entries: int  # entries in the imported accounts other than the import's own
    sample: list[Touch]

    def __bool__(self) -> bool:
        return bool(self.used or self.other_entries)


def points_import_touches(*, operation: uuid.UUID, sample: int = 5) -> Touches:
    """What has touched an import since: uses of its lots, and any other entry in its accounts."""
    uses = LotUse.objects.filter(lot__entry__operation=operation, lot__entry__kind=Entry.Kind.IMPORT)
    accounts = Entry.objects.filter(operation=operation).values("account_id")
    others = Entry.objects.filter(account_id__in=accounts).exclude(operation=operation)
    entries = [
        use.entry for use in uses.select_related("entry__account__member").order_by("entry__recorded_at")[:sample]
    ]
    entries += list(others.select_related("account__member").order_by("recorded_at", "pk")[:sample])
    # A spend both uses a lot and is another entry of the account: named once.
    distinct = sorted({entry.pk: entry for entry in entries}.values(), key=lambda entry: (entry.recorded_at, entry.pk))
    found = [Touch(entry.account.member.pseudonym, entry.get_kind_display(), entry.recorded_at) for entry in distinct]
    return Touches(used=uses.count(), other_entries=others.count(), sample=found[:sample])


def points_import_reverse(
    *, operation: uuid.UUID, undo_operation: uuid.UUID, staff, reason: str
) -> tuple[int, Touches]:
    """Take back a whole import: lock its accounts, make sure nothing has touched them, then reverse every
    opening entry and empty its lot. Returns (entries reversed, no touches), or (0, the touches) when refused,
    having written nothing. Inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("points_import_reverse runs inside the caller's transaction")
    sql.import_accounts_lock(operation=operation)
    touches = points_import_touches(operation=operation)
    if touches:
        return 0, touches
    reversed_entries = sql.import_reverse(
        operation=operation, undo_operation=undo_operation, staff_id=getattr(staff, "pk", None), reason=reason
    )
    return reversed_entries, touches
