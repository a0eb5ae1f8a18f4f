import os

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    # Decided at collection: the database vendor comes from DATABASE_URL.
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://"))
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...); SQLite ignores row locks")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
