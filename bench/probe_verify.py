"""Time the ledger verification against a plain sum of the entries; prints one JSON line.

Run by bench/foundation.py in a subprocess with DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

RUNS = 3


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def best_of(work: Callable[[], object], runs: int = RUNS) -> float:
    """Best of `runs` timings after one warm-up run, so the table pages are cached for each side alike."""
    work()
    return min(seconds(work) for _ in range(runs))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()
    from django.db import connection

    from points.verification import CHECKS, ledger_problems

    def plain_sum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT account_id, SUM(points) FROM points_entry GROUP BY account_id")
            cursor.fetchall()

    problems = ledger_problems()
    verify_s = best_of(ledger_problems)
    plain_s = best_of(plain_sum)
    checks_ms = {check.name: round(seconds(lambda check=check: ledger_problems([check])) * 1000) for check in CHECKS}
    print(
        json.dumps(
            {
                "verify_ok": not problems,
                "problems": [str(problem) for problem in problems],
                "verify_ledger_s": round(verify_s, 3),
                "plain_sum_s": round(plain_s, 3),
                "verify_ratio": round(verify_s / plain_s, 2) if plain_s else None,
                "verify_checks_ms": checks_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
