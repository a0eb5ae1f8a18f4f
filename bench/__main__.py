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

Then the nightly rank evaluation (issue 15; details in bench/ranks.py): on the seeded database, in a
transaction rolled back afterwards, a three-step ladder on the programme; a night with nothing to change
against one plain aggregate of the same qualifying purchases (target 3x), the first night (every member
placed) and a dry run.

Then the terminal API (issue "terminal API"; details in bench/terminal_api.py):
gunicorn with production settings on the seeded database, 16 terminals
posting earns from a separate process (bench/loadgen.py), warmed up until
their rate settles, for 20 s: earns per second, p50 and p99 (target: under
100 ms), failures by status, and the ratio to pgbench (target 0.12); and the
seconds one 10,000-item offline batch takes from its POST until the django-q2
worker has applied it (target 20 s).

Then the CPU of one earn (issue 13; details in bench/till_cpu.py): in one
process, earns through the Django test client on the same database, Python's
and PostgreSQL's CPU per earn (known and new card) and statements per earn,
next to the thinnest earn Django can write (lock a balance row, add, insert
a ledger row) measured in the same run; target: at most 4x its CPU.

Then the analytics reports (issue 17; details in bench/analytics.py): on the seeded database, the summaries
rebuilt from the ledger (seconds, once); each report (points, circulation, members, promotions) for one
programme's last 12 months by month, its last whole month by day, and the 12 months for members of some
attributes, through its selector and through the admin page as HTML and CSV, median of 5 after a warm-up
with query counts (target: under 300 ms each), next to one plain aggregate of the ledger measured in the
same run; the pages listed in bench/analytics.PAGES (the admin's index); and verify_ledger's
reconciliation of the summaries.

Then the monthly close (issue "monthly close"; details in bench/billing.py):
200 stores and 1,000,000 entries in last month on a database of its own:
the close's seconds against one plain aggregate over the same entries
(target 5x), and the PDFs (target: all 200 within 30 s).

Then campaigns (issue "campaigns"; details in bench/campaigns.py): the
terminal API's earn load with 50 active campaigns, 20 coupon templates and
2 rallies next to none (target 0.6), and one campaign's forecast over the
close's 1,000,000 entries (target 10 s).

Then bringing an old system over (issue 15; details in bench/legacy.py): 1,000,000 point lots of 200,000
members, with their cards and ranks, imported from generated CSV files into a database of its own by
`manage.py import_legacy` (target 300 s), after its dry run; verify_ledger must hold afterwards.

Last, the ledger's growth (issue 19; details in bench/growth.py): a database of its own with over
10,000,000 entries (`loyalty_bench_10m`, seeded once with seed_demo's COPY load and reused while it is
full; `python -m bench.growth --reseed` seeds it again) next to the 1,000,000 of `loyalty_bench`, measured
the same way in both: an earn's time in the database, statements, CPU and WAL; the member site's home and
history for a typical member and the one with most entries; a close of one month against the month's plain
aggregate; `manage.py verify_ledger` (and --deep); bytes per entry; and EXPLAIN (ANALYZE, BUFFERS) of those
statements, listing any that scans a big table or reads more than twice the buffers at 10M.

The output ends with one JSON line holding every figure.
"""

from __future__ import annotations

import sys
import time

from bench import (
    analytics,
    billing,
    campaigns,
    finish,
    foundation,
    growth,
    legacy,
    ranks,
    section,
    terminal_api,
    till_cpu,
)


def main() -> int:
    started = time.perf_counter()
    figures = foundation.run()
    # Without a seeded loyalty_bench, the sections seed small databases of their own.
    small = "seed" in figures.get("errors", {})
    section(figures, "ranks", ranks.run, small=small)
    section(figures, "terminal_api", terminal_api.run, small=small)
    section(figures, "till_cpu", till_cpu.run, small=small)
    section(figures, "analytics", analytics.run, small=small)
    section(figures, "billing", billing.run)
    section(figures, "campaigns", campaigns.run, small=small)
    section(figures, "legacy", legacy.run)
    section(figures, "growth", growth.run)
    return finish(figures, started)


if __name__ == "__main__":
    sys.exit(main())
