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

    from points.verification import QUERIES, Query, ledger_problems

    def plain_sum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT account_id, SUM(points) FROM points_entry GROUP BY account_id")
            cursor.fetchall()

    def run(query: Query) -> None:
        with connection.cursor() as cursor:
            cursor.execute(query.sql)
            cursor.fetchall()

    problems = ledger_problems(deep=True)
    verify_s = best_of(ledger_problems)
    deep_s = best_of(lambda: ledger_problems(deep=True))
    plain_s = best_of(plain_sum)
    queries_ms = {
        ",".join(rule.name for rule in query.rules): round(seconds(lambda query=query: run(query)) * 1000)
        for query in QUERIES
    }
    print(
        json.dumps(
            {
                "verify_ok": not problems,
                "problems": [str(problem) for problem in problems],
                "verify_ledger_s": round(verify_s, 3),
                "verify_ledger_deep_s": round(deep_s, 3),
                "plain_sum_s": round(plain_s, 3),
                "verify_ratio": round(verify_s / plain_s, 2) if plain_s else None,
                "verify_deep_ratio": round(deep_s / plain_s, 2) if plain_s else None,
                "verify_queries_ms": queries_ms,
            }
        )
    )


if __name__ == "__main__":
    main()
