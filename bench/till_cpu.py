"""CPU per earn, Python and PostgreSQL apart, next to the thinnest Django earn measured in the same run.

How the figures are made (issue 13):
- the database is the terminal API's (bench/terminal_api.py): `loyalty_bench`
  when the foundation seeded it, else (or with --small) a small one seeded
  by terminal_api.prepare_database.
- one subprocess under Django, with the production settings gunicorn gets
  (terminal_api.production_env): DEBUG off, so no statement is logged while
  timing (it checks that the connection's queries_logged is off). The test
  client asks for host localhost over https, as the TLS-terminating proxy
  would, so ALLOWED_HOSTS and the SSL redirect stay as in production.
- it issues a fresh secret to one terminal (terminal_issue_secret) and picks
  5,000 known cards of usable members. Should any campaign, coupon template
  or rally of the programme be running, the figure is not a plain earn's:
  their number is reported and a warning printed.
- earn: POST /api/v1/earn through django.test.Client, in process: the whole
  request path (middleware, token, rate limit, idempotency record, ledger),
  1,080 yen, a fresh Idempotency-Key each, bodies made before the clock
  starts. 300 earns to warm up, then 2,000 measured on random known cards;
  the same on new transit IC cards (16 random hex digits).
- CPU per earn: Python is time.process_time() over the measured earns (this
  process, the test client's own small share included); PostgreSQL is the
  connection's backend process, utime + stime from /proc/<pg_backend_pid()>/stat
  (fields 14 and 15, in clock ticks of SC_CLK_TCK); both divided by the
  earns. The backend's own work only: the WAL writer, checkpointer and
  autovacuum are not counted. Wall time per earn beside them.
- the reference, the thinnest earn Django can write: in the same process
  and connection, two tables of this module's own (app label
  "bench_reference"): a balance row for each of 5,000 accounts and a ledger
  row per earn with a unique key, made with the schema editor at the start
  (dropped first, should a run have left them) and dropped at the end. Each
  earn, in one transaction, locks a balance row (select_for_update), adds
  the points, saves that one field and inserts its ledger row. The same
  warm-up, count and CPU measures.
- the three series (known card, new card, reference) are each warmed up,
  then measured in 5 turns of 400 earns, taking turns: a neighbour busy for
  a while on the shared machine slows them alike.
- the earn's total CPU on a known card over the reference's is held against
  the 4x target.
- statements per earn (known card, new card, reference), BEGIN and COMMIT
  included, are counted with CaptureQueriesContext on single earns outside
  the timed loops.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass

from bench import alone, probe, say, terminal_api

WARMUP = 300
EARNS = 2_000
# The measured earns of the three series are timed in turns of EARNS / ROUNDS each.
ROUNDS = 5
KNOWN_CARDS = 5_000
REFERENCE_ACCOUNTS = 5_000
AMOUNT_YEN = 1_080
# What 1,080 yen earns at 1%: the reference adds as many points.
REFERENCE_POINTS = 10
TARGET_RATIO = 4
REFERENCE_APP = "bench_reference"
REFERENCE_TABLES = ("bench_reference_ledger", "bench_reference_balance")


def run(figures: dict, *, small: bool = False) -> None:
    """The CPU figures, added to `figures`."""
    # After the foundation section the database is freshly seeded and migrated.
    database = (
        terminal_api.DATABASE if "seed_seconds" in figures and not small else terminal_api.prepare_database(small)
    )
    say(
        f"== CPU per earn on {database}: one process, the Django test client on POST /api/v1/earn, "
        f"{WARMUP} earns to warm up and {EARNS:,} measured, next to the thinnest Django earn"
    )
    found = probe(database, "bench.till_cpu", "--measure", env=terminal_api.production_env(database), timeout=1800)
    figures.update(found)
    if found["till_cpu_promotions_active"]:
        say(
            f"   ! {found['till_cpu_promotions_active']} campaigns, coupon templates or rallies are running: "
            "the earns below are not plain ones (`python -m bench.campaigns --teardown` pauses the bench's own)"
        )
    for label, prefix, statements in (
        ("earn, known card", "till_cpu", "till_cpu_statements_known_card"),
        ("earn, new card", "till_cpu_new_card", "till_cpu_statements_new_card"),
        ("reference earn", "till_cpu_reference", "till_cpu_statements_reference"),
    ):
        say(f"   {label}: {cpu_said(found, prefix)}; {found[statements]} statements")
    compare(figures)


def cpu_said(found: dict, prefix: str) -> str:
    python, postgres, total, wall = (found[f"{prefix}_{part}_ms"] for part in ("python", "postgres", "total", "wall"))
    if postgres is None:
        return f"Python {python} ms CPU, PostgreSQL's unknown (its backend is not on this machine); wall {wall} ms"
    return f"Python {python} + PostgreSQL {postgres} = {total} ms CPU (wall {wall} ms)"


def compare(figures: dict) -> None:
    earn, reference = figures["till_cpu_total_ms"], figures["till_cpu_reference_total_ms"]
    if earn is None or not reference:
        figures["till_cpu_vs_reference_ratio"] = None
        say("== earn / reference: unknown without PostgreSQL's CPU")
        return
    ratio = earn / reference
    figures["till_cpu_vs_reference_ratio"] = round(ratio, 2)
    verdict = "meets" if ratio <= TARGET_RATIO else "ABOVE"
    say(f"== CPU per earn {earn} ms / reference {reference} ms = {ratio:.1f}x ({verdict} the {TARGET_RATIO}x target)")


# --- under Django, in a subprocess (bench.probe) ---------------------------------------------


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU seconds the PostgreSQL backend has used so far (utime + stime), or None without its /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            name, rest = stat.read().rsplit(")", 1)
    except (OSError, ValueError):
        return None
    # A server on another machine: the pid here, if any, is someone else's.
    if not name.endswith("(postgres"):
        return None
    fields = rest.split()
    # Fields 14 and 15 of the file; the first two (pid and name) are cut off with the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Spent:
    """CPU and wall time spent on one series of earns so far; PostgreSQL's None once unknown."""

    python: float = 0.0
    postgres: float | None = 0.0
    wall: float = 0.0
    calls: int = 0

    def add(self, earn, inputs: list, backend_pid: int) -> None:
        python, postgres, wall = time.process_time(), backend_cpu_seconds(backend_pid), time.perf_counter()
        for item in inputs:
            earn(item)
        self.python += time.process_time() - python
        self.wall += time.perf_counter() - wall
        after = backend_cpu_seconds(backend_pid)
        self.postgres = None if None in (self.postgres, postgres, after) else self.postgres + after - postgres
        self.calls += len(inputs)

    def figures(self, prefix: str) -> dict[str, float | None]:
        """Per earn, in milliseconds, under `<prefix>_python_ms` and so on."""

        def ms(seconds: float | None) -> float | None:
            return round(seconds * 1000 / self.calls, 3) if seconds is not None else None

        total = self.python + self.postgres if self.postgres is not None else None
        return {
            f"{prefix}_python_ms": ms(self.python),
            f"{prefix}_postgres_ms": ms(self.postgres),
            f"{prefix}_total_ms": ms(total),
            f"{prefix}_wall_ms": ms(self.wall),
        }


def measured(series: dict[str, tuple], warmup: int, backend_pid: int) -> dict:
    """Each series (prefix: (earn, inputs)) warmed up on its first `warmup` inputs, then the rest timed in
    ROUNDS turns, the series taking turns: a neighbour busy for a while on the shared machine slows them alike,
    and leaves their ratio as it was."""
    for earn, inputs in series.values():
        for item in inputs[:warmup]:
            earn(item)
    spent = {prefix: Spent() for prefix in series}
    for turn in range(ROUNDS):
        for prefix, (earn, inputs) in series.items():
            spent[prefix].add(earn, inputs[warmup:][turn::ROUNDS], backend_pid)
    return {key: value for prefix in series for key, value in spent[prefix].figures(prefix).items()}


class Till:
    """A till in process: earns through the Django test client, as gunicorn would hand them to Django."""

    def __init__(self, secret: str) -> None:
        from django.test import Client

        # Host and scheme as the proxy in front would give them (ALLOWED_HOSTS, SECURE_SSL_REDIRECT).
        self.client = Client(HTTP_HOST="localhost")
        self.authorization = f"Bearer {secret}"

    @staticmethod
    def requests(cards: list[dict]) -> list[tuple[bytes, str]]:
        """One earn's body and a fresh Idempotency-Key per card, made before any timing."""
        from django.utils import timezone

        now = timezone.now().isoformat()
        return [
            (
                json.dumps(
                    {"card": card, "amount_yen": AMOUNT_YEN, "receipt_no": f"CPU-{n}", "occurred_at": now}
                ).encode(),
                f"cpu-{uuid.uuid4().hex}",
            )
            for n, card in enumerate(cards)
        ]

    def earn(self, request: tuple[bytes, str]) -> None:
        body, key = request
        response = self.client.post(
            "/api/v1/earn",
            data=body,
            content_type="application/json",
            secure=True,
            headers={"Authorization": self.authorization, "Idempotency-Key": key},
        )
        # 201, or 200 for an earn that wrote no entry (which fresh keys and 1,080 yen should never meet).
        if response.status_code not in (200, 201):
            raise SystemExit(f"earn answered {response.status_code}: {response.content[:300]!r}")


def new_cards(count: int) -> list[dict]:
    return [{"type": "transit_ic", "number": uuid.uuid4().hex[:16].upper()} for _ in range(count)]


def reference_models():
    """The thinnest earn's two tables: a balance per account and a ledger row per earn with a unique key."""
    from django.db import models

    class Balance(models.Model):
        balance = models.BigIntegerField(default=0)

        class Meta:
            app_label = REFERENCE_APP
            db_table = REFERENCE_TABLES[1]

        def __str__(self) -> str:
            return f"balance {self.pk}"

    class Ledger(models.Model):
        balance = models.ForeignKey(Balance, on_delete=models.PROTECT, related_name="+")
        points = models.IntegerField()
        key = models.CharField(max_length=32, unique=True)
        at = models.DateTimeField()

        class Meta:
            app_label = REFERENCE_APP
            db_table = REFERENCE_TABLES[0]

        def __str__(self) -> str:
            return self.key

    return Balance, Ledger


def reference_create(balance_model, ledger_model) -> list[int]:
    """The two tables afresh, with REFERENCE_ACCOUNTS balances; returns their keys."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(REFERENCE_TABLES)}")
    with connection.schema_editor() as editor:
        editor.create_model(balance_model)
        editor.create_model(ledger_model)
    rows = balance_model.objects.bulk_create(balance_model() for _ in range(REFERENCE_ACCOUNTS))
    with connection.cursor() as cursor:
        # As the seeded tables are after VACUUM ANALYZE: the planner knows them.
        cursor.execute(f"ANALYZE {REFERENCE_TABLES[1]}")
    return [row.pk for row in rows]


def reference_drop(balance_model, ledger_model) -> None:
    from django.db import connection

    with connection.schema_editor() as editor:
        editor.delete_model(ledger_model)
        editor.delete_model(balance_model)


def reference_earner(balance_model, ledger_model):
    from django.db import transaction
    from django.utils import timezone

    def earn(pk: int) -> None:
        with transaction.atomic():
            row = balance_model.objects.select_for_update().get(pk=pk)
            row.balance += REFERENCE_POINTS
            row.save(update_fields=["balance"])
            ledger_model.objects.create(balance=row, points=REFERENCE_POINTS, key=uuid.uuid4().hex, at=timezone.now())

    return earn


def statements(earn, item) -> int:
    """Statements one earn sends, BEGIN and COMMIT included; outside the timed loops, as logging them costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        earn(item)
    return len(captured.captured_queries)


def promotions_running(secret: str) -> int:
    """Campaigns, coupon templates and rallies of the terminal's programme that are active and not over."""
    from django.utils import timezone

    from campaigns.models import Campaign
    from coupons.models import CouponTemplate
    from points.services import programme_for_store
    from rallies.models import Rally
    from stores.selectors import terminal_authenticate

    programme = programme_for_store(store=terminal_authenticate(secret=secret).store)
    now = timezone.now()
    return sum(
        model.objects.filter(programme=programme, status=model.Status.ACTIVE, ends_at__gt=now).count()
        for model in (Campaign, CouponTemplate, Rally)
    )


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def measure_main(warmup: int, earns: int) -> None:
    """All the figures, in this one process and on one connection to PostgreSQL."""
    terminal_api.django_setup()
    from django.db import connection

    # Production settings leave DEBUG off; no statement may be logged while timing either way.
    connection.force_debug_cursor = False
    if connection.queries_logged:
        raise SystemExit("statements are being logged (DEBUG on?): the CPU figures would include the logging")
    secret = terminal_api.till_terminals(1)[0]["secret"]
    cards = terminal_api.till_cards(KNOWN_CARDS)
    rng = random.Random(13)
    till = Till(secret)
    balance_model, ledger_model = reference_models()
    accounts = reference_create(balance_model, ledger_model)
    reference = reference_earner(balance_model, ledger_model)
    try:
        figures = {
            "till_cpu_earns": earns,
            "till_cpu_warmup": warmup,
            "till_cpu_promotions_active": promotions_running(secret),
        }
        series = {
            "till_cpu": (till.earn, Till.requests([rng.choice(cards) for _ in range(warmup + earns)])),
            "till_cpu_new_card": (till.earn, Till.requests(new_cards(warmup + earns))),
            "till_cpu_reference": (reference, [rng.choice(accounts) for _ in range(warmup + earns)]),
        }
        pid = backend_pid()
        figures.update(measured(series, warmup, pid))
        if backend_pid() != pid:
            raise SystemExit("the connection to PostgreSQL was replaced while timing: its CPU is not known")
        figures["till_cpu_statements_known_card"] = statements(till.earn, Till.requests([cards[0]])[0])
        figures["till_cpu_statements_new_card"] = statements(till.earn, Till.requests(new_cards(1))[0])
        figures["till_cpu_statements_reference"] = statements(reference, accounts[0])
    finally:
        reference_drop(balance_model, ledger_model)
    print(json.dumps(figures), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=f"seed and use a small {terminal_api.SMALL_DATABASE}")
    options = parser.parse_args()
    if options.measure:
        measure_main(WARMUP, EARNS)
        return 0
    return alone("till CPU", "till_cpu", run, small=options.small)


if __name__ == "__main__":
    sys.exit(main())
