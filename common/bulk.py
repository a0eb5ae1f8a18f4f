"""Writing hundreds of thousands of rows inside one transaction while the system runs: primary keys taken
before the insert (so rows can name each other without reading anything back), then COPY on PostgreSQL and
`executemany` on SQLite.

Unlike the demo's loader (points/seeding/loader.py), nothing is locked: the keys come from each table's own
sequence, so tills and the desk go on inserting meanwhile. Values are given as Python has them (dates, aware
datetimes, UUIDs, text already encrypted by its field); a model instance per row would cost `bulk_create`
about 60 µs a row, minutes for a million.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection, models

CHUNK = 5_000
# Field types whose Python values SQLite's driver does not take as they are (psycopg adapts them itself).
_CONVERTED = {"DateTimeField", "DateField", "UUIDField"}


def ids_take(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys of the model's table.

    PostgreSQL: from the table's sequence, as an INSERT would take them (other writers are not held up; the
    keys need not be consecutive). SQLite: above the largest ever given; the caller's transaction holds
    SQLite's one write lock (`transaction_mode = IMMEDIATE`), so nobody else inserts before it commits.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
            (sequence,) = cursor.fetchone()
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("ids_take on SQLite needs the caller's transaction (and its write lock)")
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) FROM {quoted}")
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        top = max(top, found[0] if found else 0)
    return list(range(top + 1, top + 1 + count))


class Rows:
    """Insert a model's rows given as tuples in the order of `columns` (attribute names)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        self.model = model
        self.fields = [by_attname[name] for name in columns]
        # A column left out takes the database's default, so only a nullable column or one with `db_default`
        # may be left out (a Python `default` is Django's, not the table's).
        missing = {
            field.attname
            for field in model._meta.concrete_fields
            if not field.primary_key
            and not field.null
            and field.attname not in columns
            and field.db_default is models.NOT_PROVIDED
        }
        if missing:
            raise RuntimeError(f"{model.__name__} rows lack the columns {sorted(missing)}")

    def insert(self, rows: Iterable[Sequence], *, prepared: bool = False) -> int:
        """Write every row; returns how many. `prepared`: the values are already as the database takes them
        (`get_db_prep_save`), so none is converted again."""
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        names = ", ".join(quote(field.column) for field in self.fields)
        written = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
                return written
            converted = [
                (index, field) for index, field in enumerate(self.fields) if field.get_internal_type() in _CONVERTED
            ]
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(self.fields))})"
            iterator = iter(rows)
            while chunk := list(islice(iterator, CHUNK)):
                if converted and not prepared:
                    chunk = [list(row) for row in chunk]
                    for row in chunk:
                        for index, field in converted:
                            row[index] = field.get_db_prep_save(row[index], connection)
                cursor.executemany(sql, chunk)
                written += len(chunk)
        return written
