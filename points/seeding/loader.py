"""Writing generated rows fast: our own primary keys, bulk inserts in dependency order.

Members, cards and the street are model instances, each value prepared by
its field (encrypted fields encrypt once) and written with COPY on PostgreSQL,
`bulk_create` on SQLite. The ledger's three big tables
(entries, lots, lot uses: millions of rows) are written as plain tuples with
COPY on PostgreSQL and `executemany` on SQLite: building a model instance and
compiling its values costs `bulk_create` about 60 µs a row on PostgreSQL and
150 µs on SQLite, which alone would take a million-entry load past ten minutes.
The tuples still follow the models: `Table` takes its columns from the model
and refuses to run when they no longer cover every column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, models, reset_queries
from django.db.models import Max

from common.bulk import Rows

BATCH_SIZE = 5000


class Ids:
    """Primary keys handed out in memory, counting up from what the tables hold.

    Knowing every id before the insert lets rows refer to each other without
    reading anything back. The load runs in one transaction, holds off other
    writers to these tables, and resets the sequences at the end, so later
    inserts by the application continue above.
    """

    def __init__(self, tables: list[type[models.Model]]):
        if connection.vendor == "postgresql":
            # Until the sequences have moved past our ids, nobody else may insert (reading is fine).
            # SQLite's write lock, taken when the transaction begins, does the same there.
            names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in tables)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
        self._next = {model: (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1 for model in tables}

    def peek(self, model: type[models.Model]) -> int:
        return self._next[model]

    def take(self, model: type[models.Model]) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), list(self._next))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


@contextmanager
def historic_timestamps(*tables: type[models.Model]) -> Iterator[None]:
    """Let auto_now / auto_now_add fields keep the times we give them.

    A seeded member joined months ago; Django would otherwise stamp every row
    with the moment of the load. Restored on the way out, whatever happens.
    """
    fields = [
        f
        for model in tables
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Table:
    """A model's rows as tuples in the order of `columns` (attribute names, all of them)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        if sorted(columns) != sorted(by_attname):
            raise RuntimeError(
                f"points.seeding writes {model.__name__} as {sorted(columns)} but the model has {sorted(by_attname)}"
            )
        self.model = model
        self.columns = tuple(columns)
        self._rows = Rows(model, columns)

    def insert(self, rows: list[Sequence]) -> None:
        """COPY on PostgreSQL, `executemany` on SQLite (common/bulk.py)."""
        self._rows.insert(rows)


def insert_instances(model: type[models.Model], instances: list[models.Model]) -> None:
    """Model instances with their primary keys set: COPY on PostgreSQL, each value prepared by its field
    (encrypted fields encrypt once, auto_now fields stamp as `bulk_create` would); `bulk_create` on SQLite.
    Profiled on PostgreSQL, `bulk_create` spent half its time building its statement in Python: the
    seed's own process is half the load on a two-core machine."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=BATCH_SIZE)
        return
    fields = model._meta.concrete_fields
    Rows(model, [field.attname for field in fields]).insert(
        [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
        for instance in instances
    )


@dataclass
class Batch:
    """Rows of one slice of members, written together in the order foreign keys need."""

    instances: dict[type[models.Model], list[models.Model]] = field(default_factory=dict)
    tuples: dict[Table, list[Sequence]] = field(default_factory=dict)

    def add(self, row: models.Model) -> models.Model:
        self.instances.setdefault(type(row), []).append(row)
        return row

    def row(self, table: Table, values: Sequence) -> None:
        self.tuples.setdefault(table, []).append(values)

    def count(self, table: type[models.Model] | Table) -> int:
        if isinstance(table, Table):
            return len(self.tuples.get(table, ()))
        return len(self.instances.get(table, ()))

    def write(self, order: list[type[models.Model] | Table]) -> None:
        for table in order:
            if isinstance(table, Table):
                rows = self.tuples.pop(table, None)
                if rows:
                    table.insert(rows)
            else:
                instances = self.instances.pop(table, None)
                if instances:
                    insert_instances(table, instances)
        if self.instances or self.tuples:
            raise RuntimeError("points.seeding: rows left without a place in the write order")
        # In DEBUG, Django keeps the text of every query; a load of millions of rows must not.
        reset_queries()
