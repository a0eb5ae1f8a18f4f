"""The fixed statements of the till's hot path name their models' columns: a renamed, added or removed
column fails here rather than at a till. (Every statement also runs, on SQLite and PostgreSQL, in the
tests of the services that send it.)"""

import pytest
from django.db import models

from api import sql as api_sql
from api.models import IdempotencyRecord
from members.models import Card, Member
from points import sql as points_sql
from points.models import Account, Entry, Lot, LotUse
from till import sql as till_sql


def attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def required_columns(model) -> set[str]:
    """What an INSERT must give: every column but the key that has no default in the database."""
    return {
        field.column
        for field in model._meta.concrete_fields
        if not field.primary_key and not field.null and field.db_default is models.NOT_PROVIDED
    }


@pytest.mark.parametrize(
    "names, model",
    [
        (points_sql.CARD_FIELDS, Card),
        (points_sql.MEMBER_FIELDS, Member),
        (points_sql.ACCOUNT_FIELDS, Account),
        (api_sql.RECORD_FIELDS, IdempotencyRecord),
        (till_sql.TERMINAL_FIELDS, till_sql.Terminal),
        (till_sql.STORE_FIELDS, till_sql.Store),
        (till_sql.PARTICIPATION_FIELDS, till_sql.Participation),
        (till_sql.PROGRAMME_FIELDS, till_sql.Programme),
    ],
)
def test_the_columns_a_statement_reads_are_the_models_in_the_models_order(names, model):
    # In the model's order: the row is turned into an instance field by field (common.fixedsql.instance).
    assert list(names) == [name for name in attnames(model) if name in names]
    assert set(names) <= set(attnames(model))


@pytest.mark.parametrize(
    "columns, model",
    [
        (points_sql.ENTRY_COLUMNS, Entry),
        (points_sql.LOT_COLUMNS, Lot),
        (points_sql.LOTUSE_COLUMNS, LotUse),
        (("member_id", "programme_id", "balance", "debt", "updated_at"), Account),
        (api_sql.CLAIM_COLUMNS, IdempotencyRecord),
    ],
)
def test_an_insert_gives_every_column_its_model_requires(columns, model):
    assert set(columns) <= {field.column for field in model._meta.concrete_fields}
    assert required_columns(model) <= set(columns)


def test_the_account_insert_names_the_columns_checked_above():
    assert "(member_id, programme_id, balance, debt, updated_at)" in points_sql.ACCOUNT_CREATE
