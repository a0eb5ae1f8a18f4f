"""The ledger's growth (issue 19): the same figures at 1 million and at 10 million entries, side by side.

How the figures are made:
- the 1M database is the foundation's `loyalty_bench` (100,000 members, 12 months); run alone, this section
  seeds it with the foundation's own functions when it is missing or holds fewer than 1,000,000 entries.
- the 10M database, `loyalty_bench_10m`: migrated, then `seed_demo` (the same seeder, the same 12 months)
  in passes of PASS_MEMBERS members until it holds at least 10,000,000 entries, then VACUUM ANALYZE. For
  the load only, the indexes of the seeded tables that back no constraint are dropped and built again
  afterwards, and the seed's connection runs with session_replication_role = replica, which skips the
  foreign-key checks (the seed's rows name each other by ids it handed out itself; verify_ledger checks
  the ledger after). Both are what a bulk load does; neither changes a row. While it seeds, a comment on
  the database keeps the dropped indexes' definitions and the passes done, so a seed that stopped goes on
  from its last whole pass; at the end the comment holds the seed's figures, and a later run reuses a
  database so marked that still holds 10,000,000 entries (after `migrate`). `--reseed` (or
  BENCH_GROWTH_RESEED=1) seeds it afresh.
- in each database, in one subprocess under Django with the production settings (DEBUG off), the same way:
  (a) earns: POST /api/v1/earn through the test client (bench/till_cpu.py's Till) on random known cards,
      EARN_WARMUP to warm up, then EARNS measured in turns: wall and CPU per earn (Python, and the
      PostgreSQL backend's), the time spent in the database (every statement and the COMMIT timed by a
      connection.execute_wrapper), statements per earn; then WAL bytes per earn, the median of WAL_EARNS
      single earns each between two pg_current_wal_lsn() (the server's WAL is shared with whatever else
      writes meanwhile, which the median leaves out);
  (b) the member site's home and points history for a member of typical history (the median number of
      entries) and for the member with the most entries, through the test client, median of N after a
      warm-up;
  (c) billing's close of the month just ended, the month before closed first (bench/billing.py's timed close,
      without its PDFs), once cold and once again after a reopen, next to the plain aggregate of that
      month's entries; the period is reopened afterwards;
  (d) `manage.py verify_ledger`, default options (twice: a second run may find less to do) and `--deep`,
      each as a command;
  the references: `SELECT count(*), sum(points) FROM points_entry` and the month's plain aggregate; the
  bytes of the ledger's tables with their indexes per entry.
- EXPLAIN (ANALYZE, BUFFERS) of every statement of one earn, of the member pages and of the close (reads;
  writes are explained without running them), in both databases: a sequential scan of a big table, or
  a statement whose buffers grow with the table, is listed.

Run alone: `python -m bench.growth [--reseed]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from bench import alone, foundation, manage, probe, say, terminal_api
from bench.pg import execute, recreate_database

DATABASE = "loyalty_bench_10m"
SMALL = foundation.DATABASE
TARGET_ENTRIES = 10_000_000
MONTHS = foundation.MONTHS
PASS_MEMBERS = 250_000
# Tables seed_demo writes in bulk: their indexes that back no constraint are built after the load.
SEEDED_TABLES = (
    "points_entry",
    "points_lot",
    "points_lotuse",
    "points_account",
    "members_member",
    "members_card",
    "members_cardevent",
    "members_consent",
)
MARKER = "bench.growth seed "
LOADING = "bench.growth loading "
LEDGER_TABLES = ("points_entry", "points_lot", "points_lotuse")


# --- the databases ------------------------------------------------------------------------


def count_entries(database: str) -> int:
    return execute(database, "SELECT count(*) FROM points_entry")[0][0]


def marker(database: str) -> tuple[str, dict] | None:
    """(MARKER, the seed's figures) left on the database by a completed seed, (LOADING, what a seed under
    way needs to go on) while one runs, else None."""
    found = execute(
        "postgres", f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{database}'"
    )
    text = (found[0][0] if found else None) or ""
    for prefix in (MARKER, LOADING):
        if text.startswith(prefix):
            return prefix, json.loads(text[len(prefix) :])
    return None


def mark(database: str, prefix: str, state: dict) -> None:
    import psycopg
    from psycopg import sql

    from bench import database_url

    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        text = prefix + json.dumps(state)
        connection.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(database), sql.Literal(text)))


def migrate(database: str) -> None:
    done, seconds = manage(database, "migrate", "--noinput")
    if done.returncode:
        raise RuntimeError("migrate failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))


def ensure_small(figures: dict) -> None:
    """The foundation's 1M database, seeded with the foundation's own functions when missing or short."""
    exists = execute("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{SMALL}'")
    if exists:
        migrate(SMALL)
        if count_entries(SMALL) >= foundation.TARGET_ENTRIES:
            return
    seeded: dict = {}
    foundation.prepare()
    foundation.seed(seeded)
    figures["growth_1m_seed_seconds"] = seeded["seed_seconds"]


def ensure_large(figures: dict, *, reseed: bool = False) -> None:
    """loyalty_bench_10m with at least TARGET_ENTRIES entries: reused when marked and full, else seeded (a seed
    that stopped half-way goes on from its last whole pass)."""
    state = None if reseed else marker(DATABASE)
    if state and state[0] == MARKER:
        migrate(DATABASE)
        entries = count_entries(DATABASE)
        if entries >= TARGET_ENTRIES:
            say(f"== {DATABASE}: reused ({entries:,} entries; seeded in {state[1]['seed_seconds']:.0f} s earlier)")
            figures.update({f"growth_10m_{key}": value for key, value in state[1].items()})
            return
        state = None
    if state:
        loading = state[1]
        say(f"== {DATABASE}: the seed goes on after {len(loading['passes'])} passes")
        # A pass that failed leaves its rows dead: the next ones reuse the room.
        execute(DATABASE, f"VACUUM {', '.join(SEEDED_TABLES)}")
    else:
        say(f"== {DATABASE}: a fresh database, migrated, seeded to {TARGET_ENTRIES:,} entries in passes")
        recreate_database(DATABASE)
        migrate(DATABASE)
        loading = {"indexes": drop_indexes(DATABASE), "passes": [], "members": 0}
        say(f"   {len(loading['indexes'])} indexes dropped for the load")
        mark(DATABASE, LOADING, loading)
    # Superuser only, as the bench connects: no foreign-key trigger runs for the load's rows.
    load_env = {"PGOPTIONS": "-c session_replication_role=replica"}
    entries = count_entries(DATABASE)
    while entries < TARGET_ENTRIES:
        members = PASS_MEMBERS
        if entries:
            # The last pass: as many members as the entries still missing need, and a few more.
            wanted = (TARGET_ENTRIES - entries) / entries * loading["members"]
            members = min(PASS_MEMBERS, max(math.ceil(wanted * 1.1), PASS_MEMBERS // 50))
        seconds = foundation.seed_pass(members, MONTHS, database=DATABASE, env=load_env)
        entries = count_entries(DATABASE)
        loading["passes"].append(round(seconds, 1))
        loading["members"] += members
        mark(DATABASE, LOADING, loading)
        say(f"   pass {len(loading['passes'])}: {members:,} members in {seconds:.0f} s; {entries:,} entries now")
    load_seconds = sum(loading["passes"])
    index_started = time.perf_counter()
    build_indexes(DATABASE, loading["indexes"])
    index_seconds = time.perf_counter() - index_started
    say(f"   {len(loading['indexes'])} indexes built in {index_seconds:.0f} s")
    vacuum_started = time.perf_counter()
    execute(DATABASE, "VACUUM ANALYZE")
    vacuum_seconds = time.perf_counter() - vacuum_started
    seeded = {
        "seed_seconds": round(load_seconds + index_seconds + vacuum_seconds, 1),
        "seed_load_seconds": round(load_seconds, 1),
        "seed_passes_seconds": loading["passes"],
        "seed_index_seconds": round(index_seconds, 1),
        "seed_vacuum_seconds": round(vacuum_seconds, 1),
        "seed_members": loading["members"],
        "seed_entries": entries,
        "seed_entries_per_s": round(entries / load_seconds),
    }
    mark(DATABASE, MARKER, seeded)
    figures.update({f"growth_10m_{key}": value for key, value in seeded.items()})
    say(
        f"   seeded in {seeded['seed_seconds']:.0f} s: passes {load_seconds:.0f} s "
        f"({seeded['seed_entries_per_s']:,} entries per second), indexes {index_seconds:.0f} s, "
        f"VACUUM ANALYZE {vacuum_seconds:.0f} s"
    )


def loose_indexes(database: str) -> list[tuple[str, str]]:
    """The seeded tables' indexes that back no constraint: (name, definition)."""
    tables = ", ".join(f"'{table}'::regclass" for table in SEEDED_TABLES)
    return execute(
        database,
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        f"WHERE i.indrelid IN ({tables}) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
    )


def drop_indexes(database: str) -> list[str]:
    """Drop the seeded tables' indexes that back no constraint; returns their definitions."""
    found = loose_indexes(database)
    for name, _definition in found:
        execute(database, f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def build_indexes(database: str, definitions: list[str]) -> None:
    import psycopg

    from bench import database_url

    with psycopg.connect(database_url(database), autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            connection.execute(definition)


# --- the figures, from the parent process ------------------------------------------------------

# (key, label, unit): the side-by-side table, in this order.
ROWS = (
    ("entries", "ledger entries", ""),
    ("reference_count_sum_s", "reference: count(*), sum(points) of the ledger", "s"),
    ("close_plain_aggregate_seconds", "reference: the month's plain aggregate", "s"),
    ("earn_wall_ms", "(a) earn, wall per earn", "ms"),
    ("earn_db_ms", "(a) earn, time in the database per earn", "ms"),
    ("earn_statements", "(a) earn, statements per earn (+ COMMIT)", ""),
    ("earn_python_ms", "    CPU per earn, Python", "ms"),
    ("earn_postgres_ms", "    CPU per earn, PostgreSQL backend", "ms"),
    ("earn_wal_bytes", "    WAL per earn", "B"),
    ("page_home_typical_ms", "(b) member home, typical member", "ms"),
    ("page_history_typical_ms", "(b) points history, typical member", "ms"),
    ("page_home_most_ms", "(b) member home, member with most entries", "ms"),
    ("page_history_most_ms", "(b) points history, member with most entries", "ms"),
    ("page_db_ms", "    their time in the database, summed", "ms"),
    ("close_cold_seconds", "(c) close of one month, cold", "s"),
    ("close_seconds", "(c) close of one month, again", "s"),
    ("close_vs_aggregate_ratio", "    close / the month's plain aggregate", "x"),
    ("verify_ledger_s", "(d) manage.py verify_ledger", "s"),
    ("verify_ledger_again_s", "(d) manage.py verify_ledger, run again", "s"),
    ("verify_ledger_deep_s", "(d) manage.py verify_ledger --deep", "s"),
    ("bytes_per_entry", "ledger tables + indexes per entry", "B"),
    ("table_bytes_per_entry", "    of which the tables", "B"),
    ("index_bytes_per_entry", "    of which the indexes", "B"),
)


def verify_timed(database: str) -> dict:
    """`manage.py verify_ledger` as a command: default options twice, then --deep; seconds each."""
    figures: dict = {}
    for key, args in (
        ("verify_ledger_s", ()),
        ("verify_ledger_again_s", ()),
        ("verify_ledger_deep_s", ("--deep",)),
    ):
        done, seconds = manage(database, "verify_ledger", *args)
        figures[key] = round(seconds, 2)
        figures[f"{key[:-2]}_ok"] = done.returncode == 0
        if done.returncode:
            say(f"   ! verify_ledger {' '.join(args)} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return figures


def in_time_order(database: str, figures: dict, label: str) -> None:
    """Store the ledger in the order of its recording, as a real one is (appended over time): seed_demo
    writes member by member, which spreads a month's entries over the whole table and makes the close's
    reads of a month scan it. CLUSTER once (by the recent-first index: descending order is as local), then
    ANALYZE; a database already in order is left as it is."""
    query = "SELECT correlation FROM pg_stats WHERE tablename = 'points_entry' AND attname = 'recorded_at'"
    found = execute(database, query)
    if found and found[0][0] is not None and abs(found[0][0]) > 0.9:
        return
    say(f"== {database}: the ledger stored in recording order (CLUSTER points_entry), once")
    started = time.perf_counter()
    execute(database, "CLUSTER points_entry USING entry_recent_id")
    execute(database, "ANALYZE points_entry")
    figures[f"growth_{label}_cluster_seconds"] = seconds = round(time.perf_counter() - started, 1)
    say(f"   in {seconds:.0f} s")


def run(figures: dict, *, reseed: bool = False) -> None:
    ensure_small(figures)
    ensure_large(figures, reseed=reseed)
    for label, database in (("1m", SMALL), ("10m", DATABASE)):
        in_time_order(database, figures, label)
    found = {}
    for label, database in (("1m", SMALL), ("10m", DATABASE)):
        say(f"== {label}: measuring on {database} (earns, member pages, a close, verify_ledger)")
        found[label] = probe(
            database, "bench.growth", "--measure", env=terminal_api.production_env(database), timeout=7200
        )
        found[label].update(verify_timed(database))
        if found[label]["promotions_active"]:
            say(f"   ! {found[label]['promotions_active']} campaigns, coupon templates or rallies are running")
    report(figures, found["1m"], found["10m"])


def report(figures: dict, small: dict, large: dict) -> None:
    """The side-by-side table and the EXPLAIN findings, printed and added to `figures`."""
    say(f"== the ledger's growth: {SMALL} | {DATABASE} | ratio")
    for key, label, unit in ROWS:
        one, ten = small.get(key), large.get(key)
        ratio = round(ten / one, 2) if isinstance(one, (int, float)) and isinstance(ten, (int, float)) and one else None
        figures[f"growth_1m_{key}"], figures[f"growth_10m_{key}"], figures[f"growth_ratio_{key}"] = one, ten, ratio
        say(f"   {label:48} {_shown(one, unit):>12} | {_shown(ten, unit):>12} | {_shown(ratio, 'x'):>7}")
    # The rest of each side's figures (statements per page, WAL quartiles, ...) as they came.
    for key in sorted(set(small) | set(large)):
        if key != "explain" and f"growth_1m_{key}" not in figures:
            figures[f"growth_1m_{key}"], figures[f"growth_10m_{key}"] = small.get(key), large.get(key)
    say(
        f"   members: typical {small['members_typical']} | {large['members_typical']}; "
        f"most entries {small['members_most']} | {large['members_most']}; month closed {large['close_period']}"
    )
    say(
        "   physical order of the ledger by recorded_at (pg_stats correlation; 1 as appended over time): "
        f"{small.get('recorded_at_correlation')} | {large.get('recorded_at_correlation')}"
    )
    figures["growth_explain"] = explain_findings(small["explain"], large["explain"])


def _shown(value, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if unit in ("", "B") and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}{unit if unit == 'x' else ''}" if unit in ("x", "s") else f"{value:,.2f}"


def explain_findings(small: list[dict], large: list[dict]) -> list[dict]:
    """The statements of the 10M database that scan a big table from end to end, or read more than twice
    the buffers the same statement read at 1M (and over 100): printed and returned."""
    at_1m = {(plan["what"], plan["sql"]): plan for plan in small}
    findings = []
    say(f"== EXPLAIN (ANALYZE, BUFFERS) in {DATABASE}: {len(large)} distinct statements of (a)-(c)")
    for plan in large:
        before = at_1m.get((plan["what"], plan["sql"]))
        grows = (
            before is not None
            and plan["buffers"] is not None
            and before["buffers"] is not None
            and plan["buffers"] > max(100, 2 * before["buffers"])
        )
        if not (plan["seq_scans"] or grows):
            continue
        finding = {
            "what": plan["what"],
            "sql": plan["sql"][:300],
            "seq_scans": plan["seq_scans"],
            "ms_10m": plan["ms"],
            "ms_1m": before["ms"] if before else None,
            "buffers_10m": plan["buffers"],
            "buffers_1m": before["buffers"] if before else None,
            "nodes": plan["nodes"],
        }
        findings.append(finding)
        scans = f"seq scan of {', '.join(plan['seq_scans'])}; " if plan["seq_scans"] else ""
        say(
            f"   {plan['what']:8} {scans}buffers {finding['buffers_1m']} -> {plan['buffers']}, "
            f"ms {finding['ms_1m']} -> {plan['ms']}: {plan['sql'][:160]}"
        )
        say(f"            plan: {' / '.join(plan['nodes'])[:200]}")
    if not findings:
        say("   none scans a big table or reads more than twice the buffers it read at 1M")
    return findings


# --- under Django, in a subprocess with the production settings (bench.probe) ----------------------------

EARN_WARMUP = 200
EARNS = 1_000
EARN_ROUNDS = 5
WAL_EARNS = 200
PAGE_RUNS = 15
KNOWN_CARDS = 5_000
BIG_TABLES = SEEDED_TABLES


class Statements:
    """A connection.execute_wrapper that times every statement (and, with `keep`, keeps its text and
    parameters); wrapped round the connection's COMMIT too, which waits for the WAL to be flushed."""

    def __init__(self, *, keep: bool = False) -> None:
        self.seconds, self.count, self.commits, self.keep, self.kept = 0.0, 0, 0, keep, []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            if self.keep and not many:
                self.kept.append((sql, params))

    def __enter__(self):
        from django.db import connection

        self._wrapping = connection.execute_wrapper(self)
        self._wrapping.__enter__()
        real = connection._commit

        def commit():
            started = time.perf_counter()
            try:
                return real()
            finally:
                self.seconds += time.perf_counter() - started
                self.commits += 1

        connection._commit = commit
        return self

    def __exit__(self, *exc):
        from django.db import connection

        del connection._commit
        self._wrapping.__exit__(*exc)


def wal_lsn() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def wal_bytes_since(lsn: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [lsn])
        return int(cursor.fetchone()[0])


def measure_earns(figures: dict) -> list:
    """(a): earns on random known cards in turns; returns one earn's statements (to be explained)."""
    import random
    import statistics

    from bench import till_cpu

    secret = terminal_api.till_terminals(1)[0]["secret"]
    cards = terminal_api.till_cards(KNOWN_CARDS)
    figures["promotions_active"] = till_cpu.promotions_running(secret)
    rng = random.Random(19)
    till = till_cpu.Till(secret)
    requests = till_cpu.Till.requests([rng.choice(cards) for _ in range(EARN_WARMUP + EARNS)])
    for request in requests[:EARN_WARMUP]:
        till.earn(request)
    pid = till_cpu.backend_pid()
    spent, timed = till_cpu.Spent(), Statements()
    for turn in range(EARN_ROUNDS):
        with timed:
            spent.add(till.earn, requests[EARN_WARMUP:][turn::EARN_ROUNDS], pid)
    # WAL apart, earn by earn: the server's WAL also carries whatever else is written meanwhile (other
    # databases too), which the median of single earns leaves out.
    wal = []
    for request in till_cpu.Till.requests([rng.choice(cards) for _ in range(WAL_EARNS)]):
        lsn = wal_lsn()
        till.earn(request)
        wal.append(wal_bytes_since(lsn))
    cpu = spent.figures("earn")
    figures.update(
        earn_wall_ms=cpu["earn_wall_ms"],
        earn_python_ms=cpu["earn_python_ms"],
        earn_postgres_ms=cpu["earn_postgres_ms"],
        earn_db_ms=round(timed.seconds * 1000 / EARNS, 3),
        earn_statements=round(timed.count / EARNS, 2),
        earn_commits=round(timed.commits / EARNS, 2),
        earn_wal_bytes=round(statistics.median(wal)),
        earn_wal_bytes_quartiles=[round(value) for value in statistics.quantiles(wal, n=4)],
        earn_statements_counted=till_cpu.statements(till.earn, till_cpu.Till.requests([cards[0]])[0]),
    )
    one = Statements(keep=True)
    with one:
        till.earn(till_cpu.Till.requests([cards[1]])[0])
    return one.kept


def members_to_show() -> dict[str, tuple[int, int]]:
    """An active member with the median number of entries, and the active member with the most."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.member_id, count(*) AS n FROM points_entry e JOIN points_account a ON a.id = e.account_id "
            "JOIN members_member m ON m.id = a.member_id WHERE m.status = 'active' "
            "GROUP BY a.member_id ORDER BY n, a.member_id"
        )
        counts = cursor.fetchall()
    return {"typical": counts[len(counts) // 2], "most": counts[-1]}


def measure_pages(figures: dict) -> list:
    """(b): the member site's home and history for a typical member and the one with most entries."""
    import statistics

    from django.test import Client

    from members.models import Member
    from membersite.services import member_login_user

    kept = []
    timed = Statements()
    for who, (member_id, entries) in members_to_show().items():
        figures[f"members_{who}"] = f"member {member_id}: {entries:,} entries"
        client = Client(HTTP_HOST="localhost")
        user = member_login_user(member=Member.objects.get(pk=member_id))
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for page, path in (("home", "/my/"), ("history", "/my/history/")):
            response = client.get(path, secure=True)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code} for member {member_id}")
            timings = []
            for _ in range(PAGE_RUNS):
                started = time.perf_counter()
                with timed:
                    client.get(path, secure=True)
                timings.append(time.perf_counter() - started)
            figures[f"page_{page}_{who}_ms"] = round(statistics.median(timings) * 1000, 1)
            one = Statements(keep=True)
            with one:
                client.get(path, secure=True)
            figures[f"page_{page}_{who}_statements"] = one.count
            kept += [(f"{page}:{who}", sql, params) for sql, params in one.kept]
    figures["page_db_ms"] = round(timed.seconds * 1000 / PAGE_RUNS, 1)
    return kept


def measure_close(figures: dict) -> list:
    """(c): billing's close of the month just ended, the month before closed, timed as bench/billing.py does
    (without PDFs); its statements kept from a third close, the period reopened at the end."""
    import datetime

    from django.utils import timezone

    from bench.billing import close_timed
    from billing.models import Period
    from billing.periods import period_containing
    from billing.services import close as close_module
    from billing.services import period_close, period_reopen
    from points.models import Programme

    programme = Programme.objects.filter(is_active=True).order_by("pk").first()
    # The close as it runs every month: of the month just ended, the one before it closed (untimed). A first
    # close, or one of a month long past, also reads the ledger before or after it.
    ended = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    year, month = period_containing(ended, closing_day=0)
    before = period_containing(ended.replace(day=1) - datetime.timedelta(days=1), closing_day=0)
    if not Period.objects.filter(programme=programme, year=before[0], month=before[1], status="closed").exists():
        close_timed(programme=programme, year=before[0], month=before[1], pdfs=False)
    found = close_timed(programme=programme, year=year, month=month, pdfs=False)
    figures.update({key: found[key] for key in found if key.startswith("close_")})
    figures["close_vs_aggregate_ratio"] = round(found["close_seconds"] / found["close_plain_aggregate_seconds"], 2)
    period = Period.objects.get(pk=found["close_period_pk"])
    period_reopen(period=period, staff=None, reason="bench: keep its statements")
    real = close_module.documents_render_missing
    close_module.documents_render_missing = lambda **kwargs: 0
    one = Statements(keep=True)
    try:
        with one:
            period_close(programme=programme, year=year, month=month)
    finally:
        close_module.documents_render_missing = real
    period_reopen(period=Period.objects.get(pk=period.pk), staff=None, reason="bench: leave it open")
    return [("close", sql, params) for sql, params in one.kept]


def measure_reference(figures: dict) -> None:
    from django.db import connection

    from bench.probe_verify import best_of

    def count_sum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(points) FROM points_entry")
            figures["entries"] = cursor.fetchone()[0]

    figures["reference_count_sum_s"] = round(best_of(count_sum), 3)
    with connection.cursor() as cursor:
        tables = ", ".join(f"'{table}'" for table in LEDGER_TABLES)
        cursor.execute(
            "SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)) FROM pg_class c "
            f"WHERE c.relname IN ({tables})"
        )
        table_bytes, index_bytes = cursor.fetchone()
        # How closely the ledger's physical order follows recorded_at (1: as appended over time; the seed
        # writes member by member, so about 0): a month's entries are together on disk, or spread over it.
        cursor.execute("SELECT correlation FROM pg_stats WHERE tablename = 'points_entry' AND attname = 'recorded_at'")
        found = cursor.fetchone()
        figures["recorded_at_correlation"] = round(found[0], 3) if found and found[0] is not None else None
    figures["bytes_per_entry"] = round((table_bytes + index_bytes) / figures["entries"])
    figures["table_bytes_per_entry"] = round(table_bytes / figures["entries"])
    figures["index_bytes_per_entry"] = round(index_bytes / figures["entries"])


def explain(what: str, sql: str, params) -> dict | None:
    """One statement's plan: reads run under EXPLAIN (ANALYZE, BUFFERS) in a transaction rolled back,
    updates and deletes explained without running; inserts of given values are skipped."""
    import re

    from django.db import connection, transaction

    head = sql.lstrip().split(None, 1)[0].upper()
    if head not in ("SELECT", "WITH", "UPDATE", "DELETE") and not (head == "INSERT" and " SELECT " in sql):
        return None
    analyze = head in ("SELECT", "WITH")
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"]
    nodes, scans = [], []

    def walk(node: dict) -> None:
        relation = node.get("Relation Name")
        nodes.append(f"{node['Node Type']}{' on ' + relation if relation else ''}")
        if node["Node Type"] == "Seq Scan" and relation in BIG_TABLES:
            scans.append(relation)
        for child in node.get("Plans", ()):
            walk(child)

    walk(top)
    return {
        "what": what,
        # The same statement in both databases, whatever the length of its lists of parameters.
        "sql": re.sub(r"%s(, %s)+", "%s...", sql),
        "analyzed": analyze,
        "ms": round(plan[0]["Execution Time"], 2) if analyze else None,
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0) if analyze else None,
        "seq_scans": scans,
        "nodes": nodes[:12],
    }


def explain_all(statements: list[tuple[str, str, object]]) -> list[dict]:
    seen, plans = set(), []
    for what, sql, params in statements:
        if (what, sql) in seen:
            continue
        seen.add((what, sql))
        plan = explain(what, sql, params)
        if plan is not None:
            plans.append(plan)
    return plans


def measure_main() -> None:
    terminal_api.django_setup()
    import tempfile

    from django.conf import settings
    from django.db import connection

    # Production settings leave DEBUG off; no statement may be logged while timing either way.
    connection.force_debug_cursor = False
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-growth-")
    figures: dict = {}
    measure_reference(figures)
    statements = [("earn", sql, params) for sql, params in measure_earns(figures)]
    statements += measure_pages(figures)
    statements += measure_close(figures)
    figures["explain"] = explain_all(statements)
    print(json.dumps(figures, default=str), flush=True)


def main() -> int:
    # The measuring subprocess (bench.probe), under Django.
    if sys.argv[1:] == ["--measure"]:
        measure_main()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help=f"seed {DATABASE} afresh even if it is marked")
    reseed = parser.parse_args().reseed or os.environ.get("BENCH_GROWTH_RESEED") == "1"
    return alone("growth", "growth", run, reseed=reseed)


if __name__ == "__main__":
    sys.exit(main())
