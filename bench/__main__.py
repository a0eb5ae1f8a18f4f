"""`make bench`: performance figures on the local PostgreSQL server (postgres://postgres@127.0.0.1:5432).

How the figures are made (issue "foundation"):
- seed: a fresh database `loyalty_bench` is migrated, then `manage.py seed_demo
  --members 100000 --months 12` runs in a subprocess; seed_seconds is its wall
  clock (Django start-up included) and seed_entries_per_s the entries it wrote
  per second of it. Should a pass write fewer than 1,000,000 entries, a second
  pass adds members until it does ("top_up" in the JSON). Then VACUUM ANALYZE,
  as autovacuum would after a bulk load.
- verify: in one process, `points.verification.ledger_problems()` (what
  `manage.py verify_ledger` runs; also with deep=True, `--deep`) and a plain
  `SELECT account_id, SUM(points) FROM points_entry GROUP BY account_id`, each
  once to warm up and then best of 3; the ratio of the two is the price of the
  check.
- changelists: the Django test client, logged in as a superuser, requests each
  admin changelist (first page, ?p=50, a filter, a search by a real member's
  phone or a card's IDm) once to warm up and then 5 times; the median time
  and the largest query count (CaptureQueriesContext) are reported. A page
  that errors is reported with its error and null figures.
- pgbench: the TPC-B-like built-in script on a separate database
  `loyalty_pgbench` (-i -s 10, then -c 16 -j 2 -T 15): the server's own
  capacity, to compare later figures against.

The output ends with one JSON line holding every figure.
"""

from __future__ import annotations

import json
import sys
import time

from bench import say
from bench.foundation import run


def main() -> int:
    started = time.perf_counter()
    figures = run()
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    say(f"== done in {figures['bench_seconds']:.0f} s")
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 1 if figures.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
