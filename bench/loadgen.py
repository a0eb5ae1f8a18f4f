"""The load client for bench/terminal_api.py: terminals posting earns to a running server.

Runs in its own process, so the server's Python and ours do not share a GIL.
One thread per terminal, each on its own keep-alive connection, one request at
a time, as a till does. The plan comes as JSON on stdin (it carries the bearer
secrets, which should not appear in a process listing):

    {"host": "127.0.0.1", "port": 8000, "warmup": 3, "warmup_max": 30, "duration": 20,
     "new_card_share": 0.1, "item_share": 0.0, "terminals": ["<secret>", ...],
     "cards": [{"type": "programme", "number": "..."}, ...]}

The warm-up lasts until the rate settles: a monitor thread counts the
requests completed in each 1 s window from the start, and once two
successive windows are within 10% of each other, every terminal has had an
answer in the last one, and at least "warmup" seconds have passed
("warmup_max" at most), it sets the measured window for
all terminals at once: from that moment, "duration" seconds. Requests that
start inside the window and finish before its end are measured (one started
during the warm-up is not); the result is one JSON line: count, errors by
status, tps, p50 and p99 in ms, the warm-up's seconds and its windows' counts.

With "mode": "batch" (and "secret", "items"), it instead sends one offline
upload of that many earns to /api/v1/batch. A server that queues it answers
202 with a status URL, asked every "poll_seconds" (0.2) until the batch is
done or failed, for "poll_timeout" (300) seconds at most; the batch's
seconds run from sending the POST to seeing it done. The same upload is then
sent once more with the same Idempotency-Key, and its batch id compared. An
inline answer (200) is timed whole, as before the queue. With "mode":
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
import urllib.parse
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
    # Every request completed, warm-up included: the monitor watches these to see the rate settle.
    completed: int = 0


class Window:
    """The measured window, decided by the monitor once the rate has settled, the same for every terminal.

    Until then it starts and ends at infinity: nothing is measured and nobody stops.
    """

    def __init__(self) -> None:
        self.start = math.inf
        self.stop = math.inf

    def decide(self, start: float, duration: float) -> None:
        # The end first: a terminal that sees the start already sees the end.
        self.stop = start + duration
        self.start = start

    def holds(self, began: float, ended: float) -> bool:
        return began >= self.start and ended <= self.stop


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


def steady(previous: int, last: int) -> bool:
    """Two successive windows' completions within 10% of each other (and not none)."""
    return last > 0 and abs(last - previous) <= 0.1 * max(previous, last)


def monitor(plan: dict, tallies: list[Tally], window: Window, found: dict) -> None:
    """Decide when measuring starts, then note who kept the cores busy while measuring."""
    launched = time.perf_counter()
    rates: list[int] = []
    done = [0] * len(tallies)
    settled = False
    while True:
        time.sleep(max(0.0, launched + len(rates) + 1 - time.perf_counter()))
        now_done = [tally.completed for tally in tallies]
        rates.append(sum(now_done) - sum(done))
        # The first requests of 16 fresh gunicorn workers can crawl at a steady few per second; every
        # terminal answered within the window says the server is serving them all.
        everyone = all(now > before for now, before in zip(now_done, done, strict=True))
        done = now_done
        elapsed = time.perf_counter() - launched
        settled = everyone and len(rates) >= 2 and steady(rates[-2], rates[-1])
        if (settled and elapsed >= plan["warmup"]) or elapsed >= plan["warmup_max"]:
            break
    start = time.perf_counter()
    window.decide(start, plan["duration"])
    found.update(warmup_seconds=round(start - launched, 1), warmup_settled=settled, warmup_rates=rates)
    before = cpu_ticks(plan.get("server_pid"))
    time.sleep(max(0.0, window.stop - time.perf_counter()))
    found["cores_used"] = cores_used(before, cpu_ticks(plan.get("server_pid")), plan["duration"])


def terminal(plan: dict, index: int, secret: str, run_id: str, window: Window, tally: Tally) -> None:
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
    while (began := time.perf_counter()) < window.stop:
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
        tally.completed += 1
        if not window.holds(began, ended):
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
    window = Window()
    tallies = [Tally() for _ in plan["terminals"]]
    threads = [
        threading.Thread(target=terminal, args=(plan, index, secret, run_id, window, tallies[index]), daemon=True)
        for index, secret in enumerate(plan["terminals"])
    ]
    watched: dict = {}
    threads.append(threading.Thread(target=monitor, args=(plan, tallies, window, watched), daemon=True))
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
        "warmup_seconds": watched["warmup_seconds"],
        "warmup_settled": watched["warmup_settled"],
        "warmup_rates": watched["warmup_rates"],
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
        "cores_used": watched.get("cores_used", {}),
        "cores": os.cpu_count(),
    }


def batch_items(plan: dict) -> list[dict]:
    """`items` offline earns, as a till that was cut off for a while stores them, oldest first."""
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
    return items


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    location: str
    seconds: float

    def json(self) -> dict:
        """The body as a JSON object; empty when it is not one."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def send(plan: dict, method: str, path: str, headers: dict, body: bytes | None = None) -> Answer:
    """One request on a connection of its own (the polls are 0.2 s apart: keep-alive would save nothing)."""
    connection = http.client.HTTPConnection(plan["host"], plan["port"], timeout=plan.get("timeout", 900))
    began = time.perf_counter()
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    return Answer(
        response.status,
        answer,
        response.getheader("Content-Type", ""),
        response.getheader("Location", ""),
        time.perf_counter() - began,
    )


def rejected_item(answer: dict) -> dict | None:
    return next((item for item in answer.get("results") or [] if item.get("status") == "rejected"), None)


def follow(plan: dict, queued: Answer, headers: dict, began: float) -> dict:
    """Ask a queued batch's status every poll_seconds until it is done or failed, or poll_timeout has passed
    since `began`; returns the last status seen, and when it was seen done (seconds after `began`)."""
    parsed = queued.json()
    # The status URL may come absolute; only its path is asked, of the same server.
    url = urllib.parse.urlsplit(parsed.get("status_url") or queued.location)
    path = url.path + (f"?{url.query}" if url.query else "")
    found = {"state": parsed.get("status"), "polls": 0, "poll_error": "", "seconds": None, "status": parsed}
    if not url.path:
        found["poll_error"] = "no status_url in the 202 answer and no Location header"
        return found
    headers = {key: value for key, value in headers.items() if key not in ("Content-Type", "Idempotency-Key")}
    while time.perf_counter() - began < plan.get("poll_timeout", 300):
        time.sleep(plan.get("poll_seconds", 0.2))
        answer = send(plan, "GET", path, headers)
        found["polls"] += 1
        if answer.status != 200:
            found["poll_error"] = f"{answer.status} {answer.body[:200].decode(errors='replace')}"
            return found
        found["status"] = answer.json()
        found["state"] = found["status"].get("status")
        if found["state"] in ("done", "failed"):
            found["seconds"] = round(time.perf_counter() - began, 2) if found["state"] == "done" else None
            return found
    return found


def retry(plan: dict, body: bytes, headers: dict, first_id: str | None) -> dict:
    """The same upload sent again with the same Idempotency-Key: which batch answers, and its counts."""
    began = time.perf_counter()
    answer = send(plan, "POST", "/api/v1/batch", headers, body)
    parsed = answer.json()
    counts = parsed.get("counts")
    if answer.status == 202:
        counts = follow(plan, answer, headers, began)["status"].get("counts")
    batch_id = parsed.get("batch_id")
    return {
        "status": answer.status,
        "batch_id": batch_id,
        "same_id": batch_id is not None and batch_id == first_id,
        "counts": counts,
    }


def batch(plan: dict) -> dict:
    """One offline upload of `items` earns; timed to its answer and, when the server queued it, to done."""
    items = batch_items(plan)
    body = json.dumps({"items": items}, separators=(",", ":")).encode()
    headers = {
        **PROXY_HEADERS,
        "Authorization": f"Bearer {plan['secret']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"batch-{uuid.uuid4().hex[:10]}",
    }
    began = time.perf_counter()
    answer = send(plan, "POST", "/api/v1/batch", headers, body)
    parsed = answer.json()
    found = {
        "items": len(items),
        "request_bytes": len(body),
        "status": answer.status,
        "answer_seconds": round(answer.seconds, 2),
        "answer_bytes": len(answer.body),
        "content_type": answer.content_type,
        "answer_start": answer.body[:300].decode(errors="replace"),
        "batch_id": parsed.get("batch_id"),
        # An inline answer (200) is the whole batch: its seconds are the answer's.
        "seconds": round(answer.seconds, 2) if 200 <= answer.status < 300 else None,
        "counts": parsed.get("counts"),
        "first_rejected": rejected_item(parsed),
        "state": None,
        "polls": 0,
        "poll_error": "",
        "applied_so_far": None,
        "retry": None,
    }
    if answer.status != 202:
        return found
    followed = follow(plan, answer, headers, began)
    status = followed["status"]
    found.update(
        seconds=followed["seconds"],
        state=followed["state"],
        polls=followed["polls"],
        poll_error=followed["poll_error"],
        applied_so_far=status.get("applied_so_far"),
        counts=status.get("counts"),
        first_rejected=rejected_item(status),
    )
    if followed["state"] == "done":
        found["retry"] = retry(plan, body, headers, found["batch_id"])
    return found


def main() -> int:
    plan = json.load(sys.stdin)
    plan.setdefault("warmup", 3)
    plan.setdefault("warmup_max", 30)
    plan.setdefault("duration", 20)
    plan.setdefault("new_card_share", 0.1)
    result = batch(plan) if plan.get("mode") == "batch" else run(plan)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
