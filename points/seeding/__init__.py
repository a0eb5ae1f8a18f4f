"""Demo data: a believable shopping street (商店街) with members and months of ledger history.

Built for speed (a hundred thousand members and a million entries in
minutes), so it writes rows in bulk instead of calling the services one
operation at a time; `ledger.py` explains how it keeps to what the services
would have written, and `manage.py verify_ledger` proves it.
"""

from points.seeding.run import SeedResult, seed_demo

__all__ = ["SeedResult", "seed_demo"]
