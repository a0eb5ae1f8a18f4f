"""The nightly rank evaluation (issue 15) against one plain aggregate of the same qualifying purchases.

On the foundation's seeded database (100,000 members, over 1,000,000 entries in 12 months; a small one
otherwise), in one process and one transaction that is rolled back at the end, so that the sections after
this one see the database as seeded:

- a ladder is put on the seeded programme: this calendar year or the last 3 months, whichever is more,
  with Silver from 30,000 yen and Gold from 100,000 yen, and a 30-day grace;
- the plain aggregate: each member's sum of earned yen since the earliest window's start, grouped by member
  (`SELECT a.member_id, SUM(e.amount_yen) ... GROUP BY a.member_id`), best of 3 after a warm-up;
- the first night (every member placed: tens of thousands of changes written), timed once;
- a night with nothing to change (the same day again, as most nights are for most members) and a dry run,
  each best of 3. Target: the night at most 3x the plain aggregate.

Run alone: `python -m bench.ranks [--small]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench import alone, probe, say, terminal_api

TARGET_RATIO = 3
LADDER = (("レギュラー", 0, 100), ("シルバー", 30_000, 120), ("ゴールド", 100_000, 150))
RUNS = 3


def run(figures: dict, *, small: bool = False) -> None:
    database = (
        terminal_api.DATABASE if "seed_seconds" in figures and not small else terminal_api.prepare_database(small)
    )
    say(f"== nightly rank evaluation on {database}, against one plain aggregate of the same purchases")
    found = probe(database, "bench.ranks", "--measure", timeout=1800)
    figures.update(found)
    ratio = found["ranks_night_ratio"]
    verdict = "within" if ratio is not None and ratio <= TARGET_RATIO else "OVER"
    say(
        f"   {found['ranks_members']:,} members with purchases, {found['ranks_entries']:,} qualifying earns; "
        f"plain aggregate {found['ranks_plain_s']:.2f} s"
    )
    say(f"   first night: {found['ranks_first_night_s']:.2f} s, {found['ranks_first_night_changes']:,} changes written")
    say(
        f"   a night with nothing to change: {found['ranks_night_s']:.2f} s, ratio {ratio} ({verdict} the "
        f"{TARGET_RATIO}x target); dry run {found['ranks_dry_run_s']:.2f} s, ratio {found['ranks_dry_run_ratio']}"
    )


def _best(work) -> float:
    work()
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def measure() -> dict:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from points.models import Entry, Programme
    from ranks.models import Rank, RankPolicy
    from ranks.services import rank_windows, ranks_evaluate
    from stores.selectors import local_midnight

    programme = Programme.objects.filter(is_active=True).order_by("pk").first()
    day = timezone.localdate()
    figures: dict = {}

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            RankPolicy.objects.filter(programme=programme).delete()
            Rank.objects.filter(programme=programme).delete()
            policy = RankPolicy.objects.create(
                programme=programme, calendar_year=True, last_months=3, downgrade_grace_days=30
            )
            for name, threshold, percent in LADDER:
                Rank.objects.create(programme=programme, name=name, threshold_yen=threshold, multiplier_percent=percent)
            start = min(window.first_day for window in rank_windows(policy, day))
            plain = (
                "SELECT a.member_id, SUM(e.amount_yen) FROM points_entry e "
                "JOIN points_account a ON a.id = e.account_id "
                "WHERE a.programme_id = %s AND e.kind = %s AND e.occurred_at >= %s AND e.occurred_at < %s "
                "GROUP BY a.member_id"
            )
            params = [programme.pk, Entry.Kind.EARN, local_midnight(start), local_midnight(day)]

            def plain_aggregate() -> None:
                with connection.cursor() as cursor:
                    cursor.execute(plain, params)
                    figures["ranks_members"] = len(cursor.fetchall())

            plain_s = _best(plain_aggregate)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) FROM points_entry e JOIN points_account a ON a.id = e.account_id "
                    "WHERE a.programme_id = %s AND e.kind = %s AND e.occurred_at >= %s AND e.occurred_at < %s",
                    params,
                )
                figures["ranks_entries"] = cursor.fetchone()[0]
            started = time.perf_counter()
            figures["ranks_first_night_changes"] = len(ranks_evaluate(programme=programme, day=day))
            figures["ranks_first_night_s"] = round(time.perf_counter() - started, 3)
            night_s = _best(lambda: ranks_evaluate(programme=programme, day=day))
            dry_s = _best(lambda: ranks_evaluate(programme=programme, day=day, dry_run=True))
            figures.update(
                ranks_plain_s=round(plain_s, 3),
                ranks_night_s=round(night_s, 3),
                ranks_dry_run_s=round(dry_s, 3),
                ranks_night_ratio=round(night_s / plain_s, 2) if plain_s else None,
                ranks_dry_run_ratio=round(dry_s / plain_s, 2) if plain_s else None,
                ranks_first_night_ratio=round(figures["ranks_first_night_s"] / plain_s, 2) if plain_s else None,
                ranks_day=day.isoformat(),
            )
            raise Rollback
    except Rollback:
        pass
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=f"seed and use a small {terminal_api.SMALL_DATABASE}")
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure()), flush=True)
        return 0
    return alone("ranks", "ranks", run, small=options.small)


if __name__ == "__main__":
    sys.exit(main())
