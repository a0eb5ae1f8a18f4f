"""Figures for the monthly close (issue "monthly close"): the close against one plain aggregate, and PDFs.

How the figures are made:
- a fresh database `loyalty_bench_close`: migrated, `seed_demo --stores 200
  --members 20000 --months 1` for the street, members, cards and accounts,
  then the entries of last month (the period closed) topped up to 1,000,000
  in SQL: earns at the 200 stores spread over the month, each with its lot,
  and a spend at another store for every fourth earn that uses up that lot,
  so the ledger's invariants (and the close's tie-out) hold. VACUUM ANALYZE.
- in a subprocess under Django (bench/billing.py --probe): billing settings
  with fees for the programme; the plain aggregate `SELECT store_id, kind,
  SUM(points), COUNT(*) FROM points_entry WHERE recorded_at in the period
  GROUP BY store_id, kind`, warmed up, best of 3; then `period_close` for the
  period, timed once cold and, after `period_reopen`, once more: the close
  proper (ledger, statements, tie-out, commit) apart from rendering the PDFs,
  which is timed on its own (documents per second, and seconds for all).
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench import alone, manage, probe, say
from bench.pg import execute, recreate_database

DATABASE = "loyalty_bench_close"
STORES = 200
ENTRIES = 1_000_000
TARGET_RATIO = 5
TARGET_PDF_SECONDS = 30


# Last month's [start, end) in Tokyo, as timestamps without time zone (local wall clock).
LAST_MONTH_START = "(date_trunc('month', now() AT TIME ZONE 'Asia/Tokyo') - interval '1 month')"
LAST_MONTH_END = "date_trunc('month', now() AT TIME ZONE 'Asia/Tokyo')"


def generate(existing: int) -> int:
    """Top last month up to ENTRIES entries with consistent earns, lots, spends and lot uses; returns added."""
    earns = max(0, (ENTRIES - existing) * 4 // 5)
    spends = earns // 4
    sql = f"""
    CREATE TEMP TABLE bounds AS
      SELECT (s AT TIME ZONE 'Asia/Tokyo') AS starts, (e AT TIME ZONE 'Asia/Tokyo') AS ends
      FROM (SELECT {LAST_MONTH_START}, {LAST_MONTH_END}) b(s, e);
    CREATE TEMP TABLE pick AS SELECT
      (SELECT array_agg(id ORDER BY id) FROM points_account) AS accounts,
      (SELECT array_agg(id ORDER BY id) FROM stores_store) AS stores;
    INSERT INTO points_entry (account_id, kind, points, operation, idempotency_key, store_id, amount_yen,
                              receipt_no, reason, funder, occurred_at, recorded_at)
    SELECT accounts[1 + (g::bigint * 7919) % cardinality(accounts)], 'earn', 1 + g % 50, gen_random_uuid(),
           'bench-earn-' || g, stores[1 + g % cardinality(stores)], (1 + g % 50) * 100, '', '', '', t, t
    FROM generate_series(1, {earns}) g, pick, bounds,
         LATERAL (SELECT starts + (ends - starts - interval '1 minute') * (g::float / {earns + 1})) ts(t);
    INSERT INTO points_lot (account_id, entry_id, store_id, points, remaining, earned_at, expires_on)
    SELECT account_id, id, store_id, points, points, recorded_at, (recorded_at + interval '2 years')::date
    FROM points_entry WHERE idempotency_key LIKE 'bench-earn-%%';
    INSERT INTO points_entry (account_id, kind, points, operation, idempotency_key, store_id, amount_yen,
                              receipt_no, reason, funder, occurred_at, recorded_at)
    SELECT e.account_id, 'spend', -e.points, gen_random_uuid(), 'bench-spend-' || g,
           stores[1 + (g + 7) % cardinality(stores)], e.points, '', '', '',
           e.recorded_at + interval '10 seconds', e.recorded_at + interval '10 seconds'
    FROM generate_series(4, {spends * 4}, 4) g
    JOIN points_entry e ON e.idempotency_key = 'bench-earn-' || g, pick;
    INSERT INTO points_lotuse (entry_id, lot_id, points)
    SELECT s.id, l.id, l.points FROM points_entry s
    JOIN points_entry e ON e.idempotency_key = 'bench-earn-' || substr(s.idempotency_key, 13)
    JOIN points_lot l ON l.entry_id = e.id
    WHERE s.idempotency_key LIKE 'bench-spend-%%';
    UPDATE points_lot l SET remaining = 0 FROM points_lotuse u WHERE u.lot_id = l.id
      AND l.entry_id IN (SELECT id FROM points_entry WHERE idempotency_key LIKE 'bench-earn-%%');
    UPDATE points_account a SET balance = a.balance + n.points FROM (
      SELECT account_id, SUM(remaining) AS points FROM points_lot
      WHERE entry_id IN (SELECT id FROM points_entry WHERE idempotency_key LIKE 'bench-earn-%%')
      GROUP BY account_id) n
    WHERE n.account_id = a.id;
    """
    execute(DATABASE, sql.replace("%%", "%"))
    return earns + spends


def prepare(figures: dict) -> None:
    say(f"== monthly close: a fresh {DATABASE}, {STORES} stores, last month topped up to {ENTRIES:,} entries")
    recreate_database(DATABASE)
    for args in (
        ("migrate", "--noinput"),
        ("seed_demo", "--stores", str(STORES), "--members", "20000", "--months", "1", "--seed", "1"),
    ):
        done, seconds = manage(DATABASE, *args)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    in_month = (
        f"recorded_at >= {LAST_MONTH_START} AT TIME ZONE 'Asia/Tokyo' "
        f"AND recorded_at < {LAST_MONTH_END} AT TIME ZONE 'Asia/Tokyo'"
    )
    existing = execute(DATABASE, f"SELECT count(*) FROM points_entry WHERE {in_month}")[0][0]
    started = time.perf_counter()
    added = generate(existing)
    execute(DATABASE, "VACUUM ANALYZE")
    figures["close_period_entries"] = existing + added
    say(f"   {existing:,} entries from seed_demo + {added:,} generated in {time.perf_counter() - started:.0f} s")


def run(figures: dict) -> None:
    prepare(figures)
    found = probe(DATABASE, "bench.billing", "--probe", timeout=3600)
    figures.update(found)
    ratio = found["close_seconds"] / found["close_plain_aggregate_seconds"]
    figures["close_vs_aggregate_ratio"] = round(ratio, 2)
    say(
        f"   plain aggregate {found['close_plain_aggregate_seconds']:.3f} s; close {found['close_seconds']:.2f} s "
        f"(cold {found['close_cold_seconds']:.2f} s) = {ratio:.1f}x "
        f"({'meets' if ratio <= TARGET_RATIO else 'ABOVE'} the {TARGET_RATIO}x target)"
    )
    say(
        f"   {found['close_statements']} statements; PDFs: {found['pdf_seconds']:.1f} s for all, "
        f"{found['pdfs_per_second']:.1f} per second "
        f"({'meets' if found['pdf_seconds'] <= TARGET_PDF_SECONDS else 'ABOVE'} the {TARGET_PDF_SECONDS} s target)"
    )


# --- under Django, in a subprocess -------------------------------------------------------


def probe_main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import datetime
    import tempfile

    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from billing.periods import period_containing
    from points.models import Programme

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-close-")
    today = timezone.localdate()
    year, month = period_containing(today.replace(day=1) - datetime.timedelta(days=1), closing_day=0)
    figures = close_timed(programme=Programme.objects.get(), year=year, month=month)
    print(json.dumps(figures), flush=True)


def close_timed(*, programme, year: int, month: int, pdfs: bool = True) -> dict:
    """`period_close` of one period (under Django), timed as this section times it: billing settings with
    fees for the programme if it has none; a period left closed by an earlier run reopened first; the close
    cold, then the plain aggregate of the period's entries (best of 3 after a warm-up), then, after
    `period_reopen`, the close again. The close proper excludes rendering the PDFs, timed apart (`pdfs`
    False: none are rendered). The period is left closed."""
    from django.db import connection

    from bench.probe_verify import best_of
    from billing.models import BillingSettings, Period
    from billing.services import close as close_module
    from billing.services import documents, period_close, period_reopen

    BillingSettings.objects.get_or_create(
        programme=programme,
        defaults={
            "issuer_registration_number": "T1234567890123",
            "payback_rate_bp": 9_500,
            "system_fee_yen": 3_000,
            "terminal_rental_yen": 1_500,
            "transaction_fee_yen": 5,
        },
    )
    rendering = {"seconds": 0.0, "count": 0}
    real = documents.documents_render_missing

    def timed(**kwargs):
        started = time.perf_counter()
        count = real(**kwargs) if pdfs else 0
        rendering["seconds"] += time.perf_counter() - started
        rendering["count"] += count
        return count

    # The close calls it by the name it imported.
    documents.documents_render_missing = close_module.documents_render_missing = timed
    try:
        # Run again on the same database (python -m bench.billing --probe), start from an open period.
        for closed in Period.objects.filter(programme=programme, year=year, month=month, status=Period.Status.CLOSED):
            period_reopen(period=closed, staff=None, reason="bench: run again")

        def close() -> tuple[float, object]:
            before = rendering["seconds"]
            started = time.perf_counter()
            result = period_close(programme=programme, year=year, month=month)
            return time.perf_counter() - started - (rendering["seconds"] - before), result

        cold, result = close()
        pdf_seconds, pdf_count = rendering["seconds"], rendering["count"]
        bounds = (result.period.starts_at, result.period.ends_at)

        def plain() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT store_id, kind, SUM(points), COUNT(*) FROM points_entry "
                    "WHERE recorded_at >= %s AND recorded_at < %s GROUP BY store_id, kind",
                    bounds,
                )
                cursor.fetchall()

        plain_s = best_of(plain)
        period_reopen(period=result.period, staff=None, reason="bench: close again warm")
        # The second close renders its PDFs again (new statements); only its close proper is kept.
        warm, again = close()
    finally:
        documents.documents_render_missing = close_module.documents_render_missing = real
    return {
        "close_plain_aggregate_seconds": round(plain_s, 4),
        "close_cold_seconds": round(cold, 3),
        "close_seconds": round(warm, 3),
        "close_statements": again.statements,
        "close_ties_out": again.tie_out.get("ties_out"),
        "pdf_seconds": round(pdf_seconds, 2),
        "pdfs_per_second": round(pdf_count / pdf_seconds, 1) if pdf_seconds and pdf_count else None,
        "close_period": f"{year}-{month:02d}",
        "close_period_pk": again.period.pk,
    }


def main() -> int:
    if "--probe" in sys.argv:
        probe_main()
        return 0
    return alone("monthly close", "billing", run)


if __name__ == "__main__":
    sys.exit(main())
