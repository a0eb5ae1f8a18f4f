"""The load client for bench/terminal_api.py: terminals posting earns to a running server.

Runs in its own process, so the server's Python and ours do not share a GIL.
One thread per terminal, each on its own keep-alive connection, one request at
a time, as a till does. The plan comes as JSON on stdin (it carries the bearer
secrets, which should not appear in a process listing):

    {"host": "127.0.0.1", "port": 8000, "warmup": 3, "duration": 20, "new_card_share": 0.1,
     "item_share": 0.0, "terminals": ["<secret>", ...], "cards": [{"type": "programme", "number": "..."}, ...]}

Requests that start after the warm-up and finish before the end are measured;
the result is one JSON line: count, errors by status, tps, p50 and p99 in ms.

With "mode": "batch" (and "secret", "items"), it instead sends one offline
upload of that many earns to /api/v1/batch and times it. With "mode":
"ceiling", the terminals send GET /api/v1/day without a token instead, and
the 401 answers are counted: the requests per second the server and client
manage with no database work at all. With "mode": "floor", they look up a card
number nobody holds (GET /api/v1/cards/...): the token checked and one card
read, two statements and no transaction, the cheapest request that touches
the database.
"""

from __future__ import annotations

import datetime
import http.client
import json
import math
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

JST = datetime.timezone(datetime.timedelta(hours=9))
# What a TLS-terminating proxy in front of gunicorn would add; production settings redirect plain HTTP.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass
class Tally:
    """What one terminal saw inside the measured window."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    new_cards: int = 0
    sample_error: str = ""


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


# The item categories a till sends when "item_share" asks for items (bench/campaigns.py's templates count them).
ITEM_CATEGORIES = ("rice", "sake", "vegetables", "bakery", "household")


def earn_body(
    rng: random.Random, cards: list[dict], new_card_share: float, receipt: str, item_share: float = 0.0
) -> tuple[bytes, bool]:
    new = not cards or rng.random() < new_card_share
    card = {"type": "transit_ic", "number": uuid.uuid4().hex[:16].upper()} if new else rng.choice(cards)
    amount = rng.randrange(100, 20_000)
    body = {
        "card": card,
        "amount_yen": amount,
        "receipt_no": receipt,
        "occurred_at": datetime.datetime.now(JST).isoformat(timespec="seconds"),
    }
    if item_share and rng.random() < item_share:
        body["items"] = basket(rng, amount)
    return json.dumps(body, separators=(",", ":")).encode(), new


def basket(rng: random.Random, amount: int) -> list[dict]:
    """One to three items whose amounts add up to the purchase."""
    count = rng.randint(1, 3)
    cuts = sorted(rng.randrange(0, amount + 1) for _ in range(count - 1))
    shares = [high - low for low, high in zip([0, *cuts], [*cuts, amount], strict=True)]
    return [
        {
            "code": f"49{rng.randrange(10**10):010d}",
            "category": rng.choice(ITEM_CATEGORIES),
            "quantity": 1,
            "amount_yen": share,
        }
        for share in shares
    ]


def cpu_ticks(server_pid: int | None) -> dict[str, int]:
    """Clock ticks of CPU so far: the whole machine, the server's processes, PostgreSQL's, this client's.

    Linux /proc only (empty elsewhere). On a shared machine the difference
    between the machine and the rest is what others took during the run.
    """
    ticks = {"machine": 0, "server": 0, "postgres": 0, "client": 0}
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return {}
    # user nice system, then (after idle and iowait) irq softirq steal
    ticks["machine"] = sum(fields[:3]) + sum(fields[5:8])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, rest = stat.read().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        used = int(fields[11]) + int(fields[12])
        if int(pid) == os.getpid():
            ticks["client"] += used
        elif server_pid and server_pid in (int(pid), int(fields[1])):
            ticks["server"] += used
        elif name.endswith("(postgres"):
            ticks["postgres"] += used
    return ticks


def cores_used(before: dict[str, int], after: dict[str, int], seconds: float) -> dict[str, float]:
    """Average cores busy over the window, by whom; "others" is everyone else on the machine."""
    if not before or not after:
        return {}
    hz = os.sysconf("SC_CLK_TCK")
    used = {key: (after[key] - before[key]) / hz / seconds for key in before}
    used["others"] = used["machine"] - used["server"] - used["postgres"] - used["client"]
    return {key: round(max(value, 0.0), 2) for key, value in used.items()}


def watch_cpu(server_pid: int | None, start: float, stop: float, found: dict) -> None:
    time.sleep(max(0.0, start - time.perf_counter()))
    before = cpu_ticks(server_pid)
    time.sleep(max(0.0, stop - time.perf_counter()))
    found.update(cores_used(before, cpu_ticks(server_pid), stop - start))


def terminal(plan: dict, index: int, secret: str, run_id: str, start: float, stop: float, tally: Tally) -> None:
    rng = random.Random(index)
    headers = {
        **PROXY_HEADERS,
        "Authorization": f"Bearer {secret}",
        "Content-Type": "application/json",
        "Accept-Language": "ja",
    }
    # The ceiling: the same server and client with nothing of ours in the way but routing, the middleware
    # and a refused bearer token (no database), as a measure of what the stack itself allows here.
    ceiling = plan.get("mode") == "ceiling"
    floor = plan.get("mode") == "floor"
    if ceiling:
        headers = dict(PROXY_HEADERS)
    ok = ("401",) if ceiling else ("200", "201")
    connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=60)
    sent = 0
    while (began := time.perf_counter()) < stop:
        sent += 1
        try:
            if ceiling:
                new = False
                connection.request("GET", "/api/v1/day", headers=headers)
            elif floor:
                new = False
                number = f"{index:02d}{rng.randrange(10**14):014d}"
                connection.request("GET", f"/api/v1/cards/transit_ic/{number}", headers=headers)
            else:
                body, new = earn_body(
                    rng, plan["cards"], plan["new_card_share"], f"R{index}-{sent}", plan.get("item_share", 0.0)
                )
                headers["Idempotency-Key"] = f"bench-{run_id}-{index}-{sent}"
                connection.request("POST", "/api/v1/earn", body, headers)
            response = connection.getresponse()
            answer = response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=60)
            answer, status = str(error).encode(), type(error).__name__
        ended = time.perf_counter()
        if began < start or ended > stop:
            continue
        tally.statuses[status] += 1
        if status in ok:
            tally.latencies.append(ended - began)
            tally.new_cards += new
        elif not tally.sample_error:
            tally.sample_error = f"{status} {answer[:200].decode(errors='replace')}"
    connection.close()


def run(plan: dict) -> dict:
    run_id = uuid.uuid4().hex[:10]
    start = time.perf_counter() + plan["warmup"]
    stop = start + plan["duration"]
    tallies = [Tally() for _ in plan["terminals"]]
    threads = [
        threading.Thread(target=terminal, args=(plan, index, secret, run_id, start, stop, tallies[index]), daemon=True)
        for index, secret in enumerate(plan["terminals"])
    ]
    cores: dict[str, float] = {}
    threads.append(threading.Thread(target=watch_cpu, args=(plan.get("server_pid"), start, stop, cores), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(latency for tally in tallies for latency in tally.latencies)
    statuses = sum((tally.statuses for tally in tallies), Counter())
    ok = ("401",) if plan.get("mode") == "ceiling" else ("200", "201")
    errors = {status: n for status, n in sorted(statuses.items()) if status not in ok}
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    return {
        "terminals": len(tallies),
        "seconds": plan["duration"],
        "count": len(latencies),
        "new_cards": sum(tally.new_cards for tally in tallies),
        "statuses": dict(sorted(statuses.items())),
        "errors": errors,
        "sample_error": next((tally.sample_error for tally in tallies if tally.sample_error), ""),
        "tps": round(len(latencies) / plan["duration"], 1),
        "p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
        "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
        # Who kept the machine's cores busy while measuring: the server, PostgreSQL, this client, others.
        "cores_used": cores,
        "cores": os.cpu_count(),
    }


def batch(plan: dict) -> dict:
    """One offline upload of `items` earns, as a till that was cut off for a while sends it; timed whole."""
    rng = random.Random(0)
    run_id = uuid.uuid4().hex[:10]
    now = datetime.datetime.now(JST)
    items = []
    for n in range(plan["items"]):
        body, _new = earn_body(rng, plan["cards"], plan["new_card_share"], f"OFF-{n}")
        item = json.loads(body)
        # Stored over the last hour or so, oldest first.
        item["occurred_at"] = (now - datetime.timedelta(seconds=0.3 * (plan["items"] - n))).isoformat(
            timespec="seconds"
        )
        items.append({"op": "earn", "key": f"off-{run_id}-{n}", **item})
    body = json.dumps({"items": items}, separators=(",", ":")).encode()
    headers = {
        **PROXY_HEADERS,
        "Authorization": f"Bearer {plan['secret']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"batch-{run_id}",
    }
    connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=plan.get("timeout", 900))
    began = time.perf_counter()
    connection.request("POST", "/api/v1/batch", body, headers)
    response = connection.getresponse()
    answer = response.read()
    seconds = time.perf_counter() - began
    connection.close()
    try:
        parsed = json.loads(answer)
        counts = parsed.get("counts")
        rejected = next((item for item in parsed.get("results", []) if item.get("status") == "rejected"), None)
    except (ValueError, AttributeError):
        counts = rejected = None
    return {
        "counts": counts,
        "first_rejected": rejected,
        "items": len(items),
        "request_bytes": len(body),
        "status": response.status,
        "seconds": round(seconds, 2),
        "answer_bytes": len(answer),
        "content_type": response.getheader("Content-Type", ""),
        "answer_start": answer[:300].decode(errors="replace"),
    }


def main() -> int:
    plan = json.load(sys.stdin)
    plan.setdefault("warmup", 3)
    plan.setdefault("duration", 20)
    plan.setdefault("new_card_share", 0.1)
    result = batch(plan) if plan.get("mode") == "batch" else run(plan)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
