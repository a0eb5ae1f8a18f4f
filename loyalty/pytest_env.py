"""The environment the tests run in, set before pytest-django loads the settings (`-p loyalty.pytest_env`).

The read replica's alias points at the database the tests use and is a test mirror of it, so that the
router's decisions can be tested without a second server; its reads stay off unless a test turns them on
(DATABASE_REPLICA_READS). A run given DATABASE_REPLICA_URL keeps it.
"""

import os

if not os.environ.get("DATABASE_REPLICA_URL"):
    os.environ["DATABASE_REPLICA_URL"] = os.environ.get("DATABASE_URL") or "sqlite:///db.sqlite3"
    os.environ.setdefault("DATABASE_REPLICA_READS", "0")
