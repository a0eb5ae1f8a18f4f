"""Figures for the foundation: seeding speed, ledger verification cost, admin changelists, pgbench."""

from __future__ import annotations

import math

from bench import manage, probe, say
from bench.pg import execute, pgbench_tps, recreate_database

DATABASE = "loyalty_bench"
MEMBERS = 100_000
MONTHS = 12
TARGET_ENTRIES = 1_000_000
SLOW_MS = 300


def count(table: str) -> int:
    return execute(DATABASE, f"SELECT count(*) FROM {table}")[0][0]


def prepare() -> None:
    say(f"== a fresh database {DATABASE}, migrated")
    recreate_database(DATABASE)
    done, seconds = manage(DATABASE, "migrate", "--noinput")
    if done.returncode:
        raise RuntimeError("migrate failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    say(f"   migrated in {seconds:.1f} s")


def seed(figures: dict) -> None:
    say(f"== seed_demo --members {MEMBERS} --months {MONTHS}")
    seconds = seed_pass(MEMBERS, MONTHS)
    entries = count("points_entry")
    figures["seed_seconds"] = round(seconds, 1)
    figures["seed_entries_per_s"] = round(entries / seconds)
    if entries < TARGET_ENTRIES:
        # More members, not more purchases each, so the first pass's figures stay a plain seed_demo run.
        extra = math.ceil((TARGET_ENTRIES - entries) / entries * MEMBERS * 1.05)
        say(
            f"   {entries:,} entries is short of {TARGET_ENTRIES:,}: topping up with a second pass of {extra:,} members"
        )
        seconds = seed_pass(extra, MONTHS)
        figures["top_up"] = {"members": extra, "seconds": round(seconds, 1)}
    # What autovacuum would soon do after a bulk load; the admin's query plans depend on it.
    execute(DATABASE, "VACUUM ANALYZE")
    figures["members"] = count("members_member")
    figures["cards"] = count("members_card")
    figures["entries"] = count("points_entry")
    figures["lots"] = count("points_lot")
    figures["lot_uses"] = count("points_lotuse")
    say(f"   first pass: {figures['seed_seconds']} s wall clock, {figures['seed_entries_per_s']:,} entries per second")
    say(
        f"   now {figures['members']:,} members, {figures['cards']:,} cards, {figures['entries']:,} entries, "
        f"{figures['lots']:,} lots, {figures['lot_uses']:,} lot uses"
    )


def seed_pass(members: int, months: int, *, database: str = DATABASE, env: dict[str, str] | None = None) -> float:
    """One `seed_demo` run, its output echoed; returns its wall-clock seconds."""
    args = ("seed_demo", "--members", str(members), "--months", str(months), "--seed", "1")
    done, seconds = manage(database, *args, env=env)
    if done.returncode:
        raise RuntimeError("seed_demo failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    for line in done.stdout.strip().splitlines():
        say(f"   | {line}")
    return seconds


def verify(figures: dict) -> None:
    say("== verify_ledger against a plain SUM(points) GROUP BY account_id (best of 3 after a warm-up)")
    found = probe(DATABASE, "bench.probe_verify")
    keys = ("verify_ok", "verify_ledger_s", "verify_ledger_deep_s", "plain_sum_s", "verify_ratio", "verify_deep_ratio")
    figures.update({key: found[key] for key in keys})
    figures["verify_queries_ms"] = found["verify_queries_ms"]
    verdict = "within" if (found["verify_ratio"] or math.inf) <= 3 else "OVER"
    say(
        f"   verify_ledger {found['verify_ledger_s']:.2f} s, plain sum {found['plain_sum_s']:.2f} s: "
        f"ratio {found['verify_ratio']} ({verdict} the 3x target); ledger {'OK' if found['verify_ok'] else 'BROKEN'}"
    )
    say(f"   verify_ledger --deep {found['verify_ledger_deep_s']:.2f} s: ratio {found['verify_deep_ratio']}")
    for name, ms in sorted(found["verify_queries_ms"].items(), key=lambda item: -item[1]):
        say(f"     {ms:6} ms  {name}")
    for problem in found["problems"]:
        say(f"   ! {problem}")


def changelists(figures: dict) -> None:
    say(f"== admin changelists, superuser, median of 5 after a warm-up (target < {SLOW_MS} ms)")
    found = probe(DATABASE, "bench.probe_admin")["changelists"]
    figures["changelists"] = found
    for name, variants in found.items():
        for variant, figure in variants.items():
            label = f"{name} {variant}"
            if figure.get("error"):
                say(f"   {label:18} ERROR {figure['error']}")
                continue
            notes = [] if figure["ms"] < SLOW_MS else ["SLOW"]
            if figure.get("found") is False:
                notes.append("search did not find the row")
            say(f"   {label:18} {figure['ms']:8.1f} ms {figure['queries']:4} queries {' '.join(notes)}")


def pgbench(figures: dict) -> None:
    say("== pgbench TPC-B reference: -i -s 10, then -c 16 -j 2 -T 15")
    figures["pgbench_tps"] = round(pgbench_tps(), 1)
    say(f"   {figures['pgbench_tps']:,} transactions per second")


def run() -> dict:
    """Every figure of the foundation issue; a stage that fails is reported and the others still run."""
    figures: dict = {"issue": "foundation"}
    errors: dict[str, str] = {}

    def attempt(name: str, stage) -> bool:
        try:
            stage(figures)
            return True
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            say(f"   ! {name} failed: {errors[name]}")
            return False

    if attempt("seed", lambda figures: (prepare(), seed(figures))):
        attempt("verify", verify)
        attempt("changelists", changelists)
    attempt("pgbench", pgbench)
    if errors:
        figures["errors"] = errors
    return figures
