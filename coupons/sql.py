"""The coupons' statements at the till as fixed SQL, called only by `coupons.services` and
`coupons.conditions` (see `common/fixedsql.py`): every earning with coupon templates running sends them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection

from common import fixedsql
from coupons.models import Coupon
from points.models import Entry, PurchaseCategory

COUPON_COLUMNS = fixedsql.writable_columns(Coupon)
ISSUED_SO_FAR = (
    "SELECT template_id, COUNT(id), MAX(issued_at), MAX(CASE WHEN issued_at_store_id = %s THEN issued_at END) "
    "FROM coupons_coupon WHERE member_id = %s AND template_id IN ({ids}) GROUP BY template_id"
)


# A purchase counts while less than its whole amount has been refunded (a void refunds it all).
_NOT_REFUNDED = "COALESCE((SELECT SUM(r.amount_yen) FROM points_entry r WHERE r.reverses_id = e.id), 0) < e.amount_yen"
EARNS_AT_STORE = (
    "SELECT e.occurred_at, e.amount_yen, e.kind FROM points_entry e "
    "WHERE e.account_id = %s AND e.store_id = %s AND e.kind = %s AND e.occurred_at >= %s AND e.occurred_at <= %s "
    f"AND {_NOT_REFUNDED}"
)
EARNS_IN_CATEGORIES = (
    "SELECT c.occurred_at, e.amount_yen, c.category FROM points_purchasecategory c "
    "JOIN points_entry e ON e.id = c.earn_id "
    "WHERE c.account_id = %s AND c.category IN ({categories}) AND c.occurred_at >= %s AND c.occurred_at <= %s "
    f"AND {_NOT_REFUNDED}"
)
# "Since the beginning" for the statements' lower bound: before any programme ran on this system.
EVER = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)


def coupons_insert(coupons: Sequence[Coupon]) -> list[Coupon]:
    """Insert the coupons in one statement; returns those not inserted because their code was taken (a new
    code colliding with an existing one), so that no savepoint is needed for that one-in-a-trillion case."""
    statement = fixedsql.insert_sql(Coupon, COUPON_COLUMNS, rows=len(coupons), returning=False)
    fields = fixedsql.columns_of(Coupon, COUPON_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            statement + " ON CONFLICT (code) DO NOTHING RETURNING id, code", fixedsql.values_of(coupons, fields)
        )
        ids = dict((code, pk) for pk, code in cursor.fetchall())
    for coupon in coupons:
        if coupon.code in ids:
            coupon.pk = ids[coupon.code]
            coupon._state.adding = False
            coupon._state.db = connection.alias
    return [coupon for coupon in coupons if coupon.code not in ids]


def issued_so_far(*, template_ids: Sequence[int], member_id: int, store_id: int) -> dict[int, tuple]:
    """Per template: the member's coupons of it, when the last was issued, and the last at this store."""
    with connection.cursor() as cursor:
        cursor.execute(
            ISSUED_SO_FAR.format(ids=fixedsql.placeholders(template_ids)), [store_id, member_id, *template_ids]
        )
        rows = cursor.fetchall()
    moment = fixedsql.converted
    return {
        template_id: (count, moment(Coupon, "issued_at", last), moment(Coupon, "issued_at", last_here))
        for template_id, count, last, last_here in rows
    }


def earns_at_store(*, account_id: int, store_id: int, since, until) -> list[tuple]:
    """The account's purchases at the store in [since, until] not refunded in full: (when, yen, "earn")."""
    return _history(EARNS_AT_STORE, [account_id, store_id, Entry.Kind.EARN], since, until)


def earns_in_categories(*, account_id: int, categories: Sequence[str], since, until) -> list[tuple]:
    """The account's purchases of items in the categories in [since, until], not refunded in full: (when, yen,
    category)."""
    statement = EARNS_IN_CATEGORIES.format(categories=fixedsql.placeholders(categories))
    return _history(statement, [account_id, *categories], since, until)


def _history(statement: str, head: list, since, until) -> list[tuple]:
    moment = PurchaseCategory._meta.get_field("occurred_at")
    bounds = [moment.get_db_prep_value(value, connection) for value in (since or EVER, until)]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*head, *bounds])
        rows = cursor.fetchall()
    return [(fixedsql.converted(PurchaseCategory, "occurred_at", at), yen, what) for at, yen, what in rows]
