"""What the apps' fixed-SQL modules (`points/sql.py`, `api/sql.py`, `till/sql.py`) share.

The till's hot statements are written once as text instead of being composed by the ORM on every
request: composing them cost more than running them. Each app keeps its statements in its own `sql.py`,
called only by that app's services; the rules (what is locked, what is written, rounding, expiry) stay
in the services. Every statement runs on PostgreSQL and SQLite; `for_update` adds the row lock where
there is one (SQLite locks the whole database for a writer). The tests hold each statement's columns
against its model, so a model change cannot leave a statement behind.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection, models


def placeholders(values: Sequence) -> str:
    """`%s, %s, ...` for an `IN (...)` of these values."""
    return ", ".join(["%s"] * len(values))


def select_list(alias: str, names: Sequence[str]) -> str:
    """`a.x, a.y` for the columns a statement reads of one table."""
    return ", ".join(f"{alias}.{name}" for name in names)


def for_update(sql: str, *, of: str = "") -> str:
    """The statement with its row lock on PostgreSQL (`of`: lock only that table's rows), as is on SQLite."""
    if connection.vendor != "postgresql":
        return sql
    return f"{sql} FOR UPDATE OF {of}" if of else f"{sql} FOR UPDATE"


@functools.cache
def columns_of(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    """The model's fields for these column names, in that order (a KeyError names a drifted column)."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    return [by_column[name] for name in names]


@functools.cache
def insert_sql(model: type[models.Model], columns: Sequence[str], *, rows: int = 1, returning: bool = True) -> str:
    """The INSERT of `rows` rows, made once per shape (every till operation sends a few)."""
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"
    return sql + " RETURNING id" if returning else sql


def values_of(objects: Sequence[models.Model], fields: Sequence[models.Field]) -> list:
    """The objects' values for an INSERT, adapted for the database as the ORM would adapt them (`pre_save`
    fills an `auto_now_add` field)."""
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objects for field in fields]


def writable_columns(model: type[models.Model]) -> tuple[str, ...]:
    """Every column of the model but its primary key: what an INSERT of a whole row gives."""
    return tuple(field.column for field in model._meta.concrete_fields if not field.primary_key)


def insert(model: type[models.Model], objects: Sequence[models.Model], columns: Sequence[str]) -> None:
    """Insert the objects in one statement and give each its primary key."""
    if not objects:
        return
    fields = columns_of(model, columns)
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(model, columns, rows=len(objects)), values_of(objects, fields))
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def instance(model: type[models.Model], attnames: Sequence[str], values: Sequence):
    """A model instance from a fixed statement's row, as the ORM would make it (the other fields deferred,
    loaded if ever read). `attnames` in the order of the model's fields; values from the database are
    converted as the ORM converts them (SQLite returns dates and decimals as text)."""
    converted = list(values)
    for index, expression, converters in _row_converters(model, tuple(attnames)):
        for converter in converters:
            converted[index] = converter(converted[index], expression, connection)
    return model.from_db(connection.alias, attnames, converted)


def _row_converters(model: type[models.Model], attnames: tuple[str, ...]) -> list[tuple]:
    """(position, column, converters) of the columns that need converting, once per model, row shape and
    database."""
    key = (connection.vendor, model, attnames)
    if key not in _ROWS:
        found = []
        for index, name in enumerate(attnames):
            expression, converters = _converters(model._meta.get_field(name))
            if converters:
                found.append((index, expression, converters))
        _ROWS[key] = found
    return _ROWS[key]


def converted(model: type[models.Model], attname: str, value):
    """One column's value from a fixed statement, as the ORM would give it."""
    expression, converters = _converters(model._meta.get_field(attname))
    for converter in converters:
        value = converter(value, expression, connection)
    return value


def _converters(field: models.Field) -> tuple:
    cache = _CONVERTERS.setdefault(connection.vendor, {})
    if field not in cache:
        expression = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        cache[field] = (expression, converters)
    return cache[field]


_CONVERTERS: dict[str, dict] = {}
_ROWS: dict[tuple, list] = {}
