"""The ledger's hot statements as fixed SQL, called only by `points.services` and `points.selectors`.

Every till operation sends these; composed by the ORM they cost more than they take to run (see
`common/fixedsql.py`). What they lock and write, and every number they write, is decided in the services.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from common import fixedsql
from members.models import Card, Member
from points.models import Account, Entry, Lot, LotUse, PurchaseCategory

# A till's card: its plain columns, never the encrypted number (the receipt prints the last four digits, and an
# unregistered card's registration code, keyed on the number's index).
CARD_FIELDS = ("id", "member_id", "card_type", "number_bidx", "number_last4", "status")
# The member's columns a till operation reads with the card: plain ones only, so personal data stays encrypted.
MEMBER_FIELDS = ("id", "pseudonym", "status", "gender", "birth_year", "birth_month", "postal_code")
ACCOUNT_FIELDS = ("id", "member_id", "programme_id", "balance", "debt", "updated_at")
ENTRY_COLUMNS = fixedsql.writable_columns(Entry)
LOT_COLUMNS = fixedsql.writable_columns(Lot)
LOTUSE_COLUMNS = ("entry_id", "lot_id", "points")
CATEGORY_COLUMNS = fixedsql.writable_columns(PurchaseCategory)

_CARD_AND_MEMBER = (
    f"SELECT {fixedsql.select_list('c', CARD_FIELDS)}, {fixedsql.select_list('m', MEMBER_FIELDS)} "
    "FROM members_card c LEFT JOIN members_member m ON m.id = c.member_id WHERE c.{key} = %s"
)
CARD_LOCK_BY_ID = _CARD_AND_MEMBER.format(key="id")
CARD_LOCK_BY_INDEX = _CARD_AND_MEMBER.format(key="number_bidx")
# The card and, when it has one in the programme, its account, both locked (card first, as every till
# operation locks them); no row when either is missing.
CARD_AND_ACCOUNT_LOCK = (
    f"SELECT {fixedsql.select_list('c', CARD_FIELDS)}, {fixedsql.select_list('m', MEMBER_FIELDS)}, "
    f"{fixedsql.select_list('a', ACCOUNT_FIELDS)} "
    "FROM members_card c LEFT JOIN members_member m ON m.id = c.member_id "
    "JOIN points_account a ON a.member_id = c.member_id AND a.programme_id = %s WHERE c.number_bidx = %s"
)
MEMBER_BY_ID = "SELECT " + ", ".join(MEMBER_FIELDS) + " FROM members_member WHERE id = %s"
ACCOUNT_LOCK = "SELECT " + ", ".join(ACCOUNT_FIELDS) + " FROM points_account WHERE member_id = %s AND programme_id = %s"
ACCOUNT_CREATE = (
    "INSERT INTO points_account (member_id, programme_id, balance, debt, updated_at) VALUES (%s, %s, 0, 0, %s) "
    "ON CONFLICT (member_id, programme_id) DO NOTHING"
)
ACCOUNT_OPEN = (
    "INSERT INTO points_account (member_id, programme_id, balance, debt, updated_at) VALUES (%s, %s, 0, 0, %s) "
    "RETURNING " + ", ".join(ACCOUNT_FIELDS)
)
ACCOUNT_SAVE = "UPDATE points_account SET balance = %s, debt = %s, updated_at = %s WHERE id = %s"
LOTS_EXPIRING = (
    "SELECT expires_on, SUM(remaining) FROM points_lot WHERE account_id = %s AND remaining > 0 "
    "AND expires_on >= %s AND expires_on <= %s GROUP BY expires_on ORDER BY expires_on"
)


def card_lock(*, card_id: int | None = None, number_index: str | None = None) -> Card | None:
    """Lock a card's row (by id or by its number's index) and read its member's plain columns in the same
    statement; None if no card has that number. The member's row stays unlocked."""
    key = card_id if card_id is not None else number_index
    with connection.cursor() as cursor:
        cursor.execute(
            fixedsql.for_update(CARD_LOCK_BY_ID if card_id is not None else CARD_LOCK_BY_INDEX, of="c"), [key]
        )
        row = cursor.fetchone()
        if row is None:
            return None
        if row[len(CARD_FIELDS)] is None:
            # A merge moved the card while we waited for its lock: PostgreSQL, re-checking the join with the
            # card's new member, kept the card (locked now) without a member. Its new member, on its own.
            cursor.execute(MEMBER_BY_ID, [row[1]])
            row = row[: len(CARD_FIELDS)] + cursor.fetchone()
    return _card(row)


def _card(row) -> Card:
    """The card with its member, from a row that has the card's columns, then the member's."""
    cut = len(CARD_FIELDS)
    card = fixedsql.instance(Card, CARD_FIELDS, row[:cut])
    card.member = fixedsql.instance(Member, MEMBER_FIELDS, row[cut : cut + len(MEMBER_FIELDS)])
    return card


def card_and_account_lock(*, number_index: str, programme_id: int) -> tuple[Card, Account] | None:
    """Lock the card with this number and its account in the programme in one statement, with the member's
    plain columns; None when there is no such card, it has no account in the programme yet, or a merge
    moved it while we waited (then the card alone, card_lock, tells which)."""
    with connection.cursor() as cursor:
        cursor.execute(fixedsql.for_update(CARD_AND_ACCOUNT_LOCK, of="c, a"), [programme_id, number_index])
        row = cursor.fetchone()
    member_end = len(CARD_FIELDS) + len(MEMBER_FIELDS)
    if row is None or row[len(CARD_FIELDS)] is None:
        return None
    return _card(row), fixedsql.instance(Account, ACCOUNT_FIELDS, row[member_end:])


def account_lock(*, member_id: int, programme_id: int) -> Account:
    """Lock the member's account in the programme, opened (empty) first if there is none."""
    with connection.cursor() as cursor:
        cursor.execute(fixedsql.for_update(ACCOUNT_LOCK), [member_id, programme_id])
        row = cursor.fetchone()
        if row is None:
            # A concurrent opening of the same account makes this one do nothing; the lock then finds it.
            cursor.execute(ACCOUNT_CREATE, [member_id, programme_id, _now_for_db()])
            cursor.execute(fixedsql.for_update(ACCOUNT_LOCK), [member_id, programme_id])
            row = cursor.fetchone()
    return fixedsql.instance(Account, ACCOUNT_FIELDS, row)


def account_open(*, member_id: int, programme_id: int) -> Account:
    """Open the account of a member created in this transaction: nobody else can have opened it, and
    nobody else can see the row before the commit."""
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNT_OPEN, [member_id, programme_id, _now_for_db()])
        return fixedsql.instance(Account, ACCOUNT_FIELDS, cursor.fetchone())


def account_save(account: Account) -> None:
    account.updated_at = timezone.now()
    updated_at = Account._meta.get_field("updated_at").get_db_prep_save(account.updated_at, connection)
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNT_SAVE, [account.balance, account.debt, updated_at, account.pk])


def entries_insert(entries: Sequence[Entry]) -> None:
    fixedsql.insert(Entry, entries, ENTRY_COLUMNS)


def lots_insert(lots: Sequence[Lot]) -> None:
    fixedsql.insert(Lot, lots, LOT_COLUMNS)


def lot_uses_insert(uses: Sequence[LotUse]) -> None:
    fixedsql.insert(LotUse, uses, LOTUSE_COLUMNS)


def item_categories_insert(categories: Sequence[PurchaseCategory]) -> None:
    fixedsql.insert(PurchaseCategory, categories, CATEGORY_COLUMNS)


def lots_expiring(*, account_id: int, first: datetime.date, last: datetime.date) -> list[dict]:
    field = Lot._meta.get_field("expires_on")
    with connection.cursor() as cursor:
        cursor.execute(
            LOTS_EXPIRING,
            [account_id, field.get_db_prep_value(first, connection), field.get_db_prep_value(last, connection)],
        )
        rows = cursor.fetchall()
    return [{"expires_on": fixedsql.converted(Lot, "expires_on", day), "points": int(points)} for day, points in rows]


def _now_for_db():
    return Account._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)


# --- opening balances brought over from an old system (points.services.imports) ----------------------------

# The accounts holding an import's entries, locked in primary-key order (a rollback's first step).
IMPORT_ACCOUNTS_LOCK = (
    "SELECT id FROM points_account WHERE id IN (SELECT account_id FROM points_entry WHERE operation = %s) ORDER BY id"
)
# One reversing entry per opening entry: the same account, card and store, the points negated.
IMPORT_REVERSE_ENTRIES = """
    INSERT INTO points_entry (account_id, kind, points, operation, idempotency_key, card_id, store_id, terminal_id,
                              staff_id, amount_yen, receipt_no, reverses_id, reason, funder, occurred_at, recorded_at)
    SELECT account_id, kind, -points, %s, 'undo:' || idempotency_key, card_id, store_id, NULL,
           %s, NULL, '', id, %s, '', %s, %s
    FROM points_entry WHERE operation = %s AND kind = %s AND points > 0
"""
# Each reversing entry takes the whole of the lot its opening entry formed.
IMPORT_REVERSE_USES = """
    INSERT INTO points_lotuse (entry_id, lot_id, points)
    SELECT r.id, l.id, l.points FROM points_entry r JOIN points_lot l ON l.entry_id = r.reverses_id
    WHERE r.operation = %s
"""
IMPORT_REVERSE_LOTS = (
    "UPDATE points_lot SET remaining = 0 "
    "WHERE entry_id IN (SELECT id FROM points_entry WHERE operation = %s AND kind = %s AND points > 0)"
)
IMPORT_REVERSE_BALANCES = """
    UPDATE points_account SET balance = points_account.balance + r.points, updated_at = %s
    FROM (SELECT account_id, SUM(points) AS points FROM points_entry WHERE operation = %s GROUP BY account_id) r
    WHERE points_account.id = r.account_id
"""


def import_accounts_lock(*, operation) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(fixedsql.for_update(IMPORT_ACCOUNTS_LOCK), [_uuid_for_db(operation)])
        return [row[0] for row in cursor.fetchall()]


def import_reverse(*, operation, undo_operation, staff_id: int | None, reason: str) -> int:
    """Write the reversal of an import's opening entries (the accounts are locked, nothing has touched the
    lots): entries, lot uses, lots emptied, balances lowered. Returns the number of entries reversed."""
    now = _now_for_db()
    kind = Entry.Kind.IMPORT
    with connection.cursor() as cursor:
        cursor.execute(
            IMPORT_REVERSE_ENTRIES,
            [_uuid_for_db(undo_operation), staff_id, reason, now, now, _uuid_for_db(operation), kind],
        )
        reversed_entries = cursor.rowcount
        cursor.execute(IMPORT_REVERSE_USES, [_uuid_for_db(undo_operation)])
        cursor.execute(IMPORT_REVERSE_LOTS, [_uuid_for_db(operation), kind])
        cursor.execute(IMPORT_REVERSE_BALANCES, [now, _uuid_for_db(undo_operation)])
    return reversed_entries


def _uuid_for_db(value):
    return Entry._meta.get_field("operation").get_db_prep_value(value, connection)
