"""The scale test: `bin/cluster` (HAProxy, two gunicorn servers, two django-q2 workers, Redis, a PostgreSQL
primary and its streaming replica) under `simulate_terminals`, with an app server and a worker killed mid-run.

It starts its own PostgreSQL clusters (bin/cluster), so it does not use the test database: it runs once per
`make test`, in the PostgreSQL pass of bin/test-all (a machine without PostgreSQL skips that pass), and is
skipped where HAProxy, PostgreSQL's programs or Redis are missing, except in CI (CI=true), where that fails.
It takes two to four minutes.
"""

import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql")
START_SECONDS = 420
PORT = 8500

pytestmark = pytest.mark.cluster


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the cluster's scale test: {reason}")
    pytest.skip(reason)


def _check_tools() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("the cluster's scale test runs once, in the PostgreSQL pass of bin/test-all")
    if not shutil.which("haproxy"):
        _unavailable("HAProxy is not installed (apt-get install haproxy)")
    if not list(PG_BIN.glob("*/bin/pg_basebackup")):
        _unavailable("PostgreSQL's programs (initdb, pg_basebackup) are not installed")
    redis = subprocess.run(["redis-cli", "ping"], capture_output=True, text=True) if shutil.which("redis-cli") else None
    if redis is None or redis.stdout.strip() != "PONG":
        _unavailable("Redis is not answering at 127.0.0.1:6379")


def _env(**extra) -> dict:
    """The test run's environment without its databases (the cluster has its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTEST_", "DJANGO_CACHE"))}
    return {**env, **extra}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """bin/cluster running (once for this module's tests); stopped with Ctrl-C (SIGINT) afterwards, and
    nothing of it left running."""
    _check_tools()
    tmp_path = tmp_path_factory.mktemp("cluster")
    state = tmp_path / "cluster.env"
    log = (tmp_path / "cluster.log").open("w")
    env = _env(
        CLUSTER_PORT=str(PORT),
        CLUSTER_REDIS_DB="4",
        CLUSTER_STATE=str(state),
        CLUSTER_STORES="8",
        CLUSTER_MEMBERS="200",
        # Uploads of more than 50 items go to the workers; a part without progress for 10 s lost its worker.
        TERMINAL_API_BATCH_INLINE_MAX="50",
        TERMINAL_BATCH_STALLED_SECONDS="10",
        # 40 requests per 8 s window per terminal: the simulated tills (2 a second) stay under it.
        TERMINAL_API_RATE="5",
        TERMINAL_API_BURST="40",
    )
    process = subprocess.Popen(
        [str(ROOT / "bin/cluster")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # Ctrl-C reaches it even from a test process that ignores SIGINT (a pytest-xdist worker).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not state.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("bin/cluster did not start:\n" + (tmp_path / "cluster.log").read_text()[-3000:])
            time.sleep(1)
        values = dict(line.split("=", 1) for line in state.read_text().splitlines())
        yield values
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("bin/cluster did not stop within 90 s of Ctrl-C")
        log.close()
    left = [name for name, pid in values.items() if name.startswith("PID_") and _alive(int(pid))]
    assert not left, f"still running after Ctrl-C: {left}"
    assert not Path(values["CLUSTER_DIR"]).exists()
    assert process.returncode == 130, (tmp_path / "cluster.log").read_text()[-3000:]


def _rows(url: str, sql: str, *params) -> list:
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _wait_for(url: str, sql: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _rows(url, sql)[0][0]:
            return True
        time.sleep(0.2)
    return False


def _told(report: dict) -> dict[str, set]:
    """Each write's key → the transaction ids the tills were told (online answers and offline results)."""
    told: dict[str, set] = {}
    for answer in report["answers"]:
        if answer["status"] in (200, 201) and answer["transaction_id"]:
            told.setdefault(answer["key"], set()).add(answer["transaction_id"])
    for batch in report["batches"]:
        for result in batch["results"]:
            transaction = (result.get("result") or {}).get("transaction_id")
            if result["status"] in ("applied", "already_applied") and transaction:
                told.setdefault(result["key"], set()).add(transaction)
    return told


def _ledger(url: str, run_id: str) -> dict[str, set]:
    """Each of this run's keys → the operations in the ledger written under it (bonuses carry `key:…`)."""
    rows = _rows(
        url,
        "SELECT idempotency_key, operation::text FROM points_entry WHERE idempotency_key ~ %s",
        rf"^api:\d+:(sim|off)-{run_id}-",
    )
    found: dict[str, set] = {}
    for key, operation in rows:
        own = re.match(r"^api:\d+:([^:]+)", key).group(1)
        found.setdefault(own, set()).add(operation)
    return found


# --- what the app servers share: Redis and PostgreSQL only (these run first, while both servers live) ------

ISSUE_SECRET = """
from stores.models import Terminal
from stores.services import terminal_issue_secret
terminal = Terminal.objects.filter(status="active").order_by("-code").first()
print(terminal_issue_secret(terminal=terminal, staff=None))
"""


def _manage_shell(url: str, code: str, **extra) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=_env(DATABASE_URL=url, **extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _lookup(port: int, secret: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "GET", "/api/v1/cards/transit_ic/0000000000000001", headers={"Authorization": f"Bearer {secret}"}
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_rate_limit_counts_a_terminal_across_both_app_servers(cluster):
    # Given a terminal allowed 40 requests per 8-second window, counted in Redis,
    secret = _manage_shell(cluster["DATABASE_URL"], ISSUE_SECRET)
    servers = [PORT + 1, PORT + 2]
    # when it sends 100 requests in turn to each app server (each has two processes),
    answers = [_lookup(servers[n % 2], secret) for n in range(100)]
    # then at most two windows' worth got through (a fixed window lets two bursts meet at its edge), where a
    # count kept by each of the four processes would have let all 100 through,
    assert answers.count(200) <= 80
    assert answers.count(429) >= 20
    assert set(answers) == {200, 429}
    # and the counts are in the cluster's Redis database.
    keys = subprocess.run(
        ["redis-cli", "-n", "4", "--scan", "--pattern", "*api:rate:*"], capture_output=True, text=True, check=True
    )
    assert keys.stdout.strip()


CAMPAIGN_START = """
import datetime
from django.utils import timezone
from campaigns.models import Campaign
from campaigns.services import campaign_save, campaign_set_status
from points.models import Programme
now = timezone.now()
campaign = Campaign(
    programme=Programme.objects.order_by("pk").first(), name="cluster", kind=Campaign.Kind.FIXED, fixed_points=77,
    starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(days=1),
)
campaign = campaign_save(campaign=campaign, staff=None)
campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE, staff=None)
print(campaign.pk)
"""

CAMPAIGN_PAUSE = """
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
campaign_set_status(campaign=Campaign.objects.get(name="cluster"), status=Campaign.Status.PAUSED, staff=None)
print("paused")
"""


def _bonuses(port: int, secret: str, n: int) -> list[int]:
    """An earn on a new card through one app server: the bonus points its receipt lists."""
    body = {
        "card": {"type": "transit_ic", "number": f"C1A57E{n:010X}"},
        "amount_yen": 1_000,
        "receipt_no": f"CL-{n}",
        "occurred_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": f"cluster-{n}"}
        connection.request("POST", "/api/v1/earn", body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 201, answer
    return [bonus["points"] for bonus in answer["points"]["bonuses"]]


def test_a_campaign_paused_is_paused_on_every_app_server_at_the_next_earn(cluster):
    # Given a running campaign that every process of both app servers has given at an earn,
    url = cluster["DATABASE_URL"]
    secret = _manage_shell(url, ISSUE_SECRET)
    _manage_shell(url, CAMPAIGN_START)
    servers = [PORT + 1, PORT + 2] * 4
    assert all(77 in _bonuses(port, secret, n) for n, port in enumerate(servers))
    # when an operator pauses it (one write to PostgreSQL, nothing sent to the servers),
    _manage_shell(url, CAMPAIGN_PAUSE)
    # then no process of either server gives it any more.
    assert not any(77 in _bonuses(port, secret, 100 + n) for n, port in enumerate(servers))


def test_the_tills_answers_survive_a_dead_app_server_and_a_dead_worker(cluster, tmp_path):
    # Given the cluster, and the second worker paused: whatever is queued goes to the first.
    url = cluster["DATABASE_URL"]
    os.killpg(int(cluster["PID_WORKER2"]), signal.SIGSTOP)
    report_file = tmp_path / "report.json"
    simulation = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_terminals", "--stores", "8", "--minutes", "0.5", "--rate", "2"]
        + ["--base-url", cluster["CLUSTER_URL"], "--batch-items", "150", "--report", str(report_file)],
        cwd=ROOT,
        env=_env(DATABASE_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # When one app server dies with every process it has, mid-run, in the middle of requests,
        time.sleep(12)
        os.killpg(int(cluster["PID_WEB1"]), signal.SIGKILL)
        # and the first worker dies while it applies an offline upload,
        running = "SELECT count(*) FROM api_batchpart WHERE status = 'running'"
        assert _wait_for(url, running, 150), "no offline upload reached the workers"
        os.killpg(int(cluster["PID_WORKER1"]), signal.SIGKILL)
        os.killpg(int(cluster["PID_WORKER2"]), signal.SIGCONT)
        output, _ = simulation.communicate(timeout=480)
    finally:
        if simulation.poll() is None:
            simulation.kill()
    # then the tills had an answer to everything, no 5xx, and every replay was identical,
    assert simulation.returncode == 0, output
    report = json.loads(report_file.read_text())
    assert not report["failures"]
    # every answer a till received is in the ledger exactly once, and nothing else is there,
    told, ledger = _told(report), _ledger(url, report["run_id"])
    assert len(told) > 20
    assert all(len(ids) == 1 for ids in told.values()), "a key was answered with two transactions"
    assert {key: ids for key, ids in ledger.items() if len(ids) > 1} == {}, "a retry wrote a second operation"
    assert set().union(*ledger.values()) == set().union(*told.values())
    # the work queued to the dead worker was completed by the other one,
    parts = _rows(url, "SELECT status, attempts FROM api_batchpart")
    uploads = _rows(url, "SELECT status FROM api_batchupload")
    assert parts and {status for status, _ in parts} == {"done"}
    assert {status for (status,) in uploads} == {"done"}
    assert max(attempts for _, attempts in parts) >= 2, "no part was run again after its worker died"
    assert len(report["batches"]) == len(uploads)
    # and the ledger verifies.
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_ledger", "--deep"],
        cwd=ROOT,
        env=_env(DATABASE_URL=url),
        capture_output=True,
        text=True,
    )
    assert "ledger OK" in verify.stdout, verify.stdout + verify.stderr
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_replica_streams_the_primarys_writes(cluster):
    # The replica is a hot standby that has the primary's rows (made by pg_basebackup, kept by streaming).
    primary, replica = cluster["DATABASE_URL"], cluster["DATABASE_REPLICA_URL"]
    assert _rows(replica, "SELECT pg_is_in_recovery()") == [(True,)]
    _rows(primary, "CREATE TABLE cluster_probe (n int)")
    _rows(primary, "INSERT INTO cluster_probe VALUES (42)")
    assert _wait_for(replica, "SELECT count(*) FROM pg_tables WHERE tablename = 'cluster_probe'", 10)
    assert _rows(replica, "SELECT n FROM cluster_probe") == [(42,)]


READ_FROM_REPLICA = """
from common.replica import read_alias, reading_from_replica, replica_lag
from members.models import Member
with reading_from_replica():
    print(read_alias(), replica_lag(), Member.objects.count())
"""


def test_the_router_reads_the_real_replica_while_it_keeps_up(cluster):
    # Given the app's settings for the cluster (DATABASE_REPLICA_URL), a view's reads inside
    # reading_from_replica() go to the streaming replica, whose lag (asked with PostgreSQL's replay
    # functions) is within the setting, and which has the primary's rows.
    primary, replica = cluster["DATABASE_URL"], cluster["DATABASE_REPLICA_URL"]
    alias, lag, members = _manage_shell(primary, READ_FROM_REPLICA, DATABASE_REPLICA_URL=replica).split()
    assert alias == "replica"
    assert 0 <= float(lag) < 30
    assert int(members) == _rows(primary, "SELECT count(*) FROM members_member")[0][0]
