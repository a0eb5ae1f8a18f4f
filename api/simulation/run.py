"""A run: terminals and cards from the database, the tills for a while, the
offline uploads, and the summary."""

from __future__ import annotations

import datetime
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from api.simulation.tills import BROKEN_CODES, CUT_BODY, FAULTS, MAX_ATTEMPTS, CardPool, Tally, Till, now
from api.simulation.wire import TIMEOUT, Answer, Client
from members.models import Card
from points.models import Entry
from stores.models import Store, Terminal
from stores.services import terminal_issue_secret

KNOWN_CARDS = 200


@dataclass(frozen=True)
class Terminals:
    secrets: dict  # terminal code -> bearer secret
    stores: int


def terminals_prepare(*, stores: int, per_store: int) -> Terminals:
    """Issue new secrets to the active terminals of up to `stores` active, participating stores."""
    chosen = (
        Store.objects.filter(
            status=Store.Status.ACTIVE,
            terminals__status=Terminal.Status.ACTIVE,
            participation__programme__is_active=True,
        )
        .distinct()
        .order_by("code")[:stores]
    )
    secrets = {}
    for store in chosen:
        for terminal in Terminal.objects.filter(store=store, status=Terminal.Status.ACTIVE).order_by("code")[
            :per_store
        ]:
            secrets[terminal.code] = terminal_issue_secret(terminal=terminal, staff=None)
    return Terminals(secrets=secrets, stores=len(chosen))


def cards_known(limit: int = KNOWN_CARDS) -> list[tuple[str, str]]:
    """Some of the newest active cards, as members who already hold one bring them to the till."""
    cards = Card.objects.filter(status=Card.Status.ACTIVE).order_by("-id")[:limit]
    return [(card.card_type, card.number) for card in cards]


def last_entry_id() -> int:
    return Entry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def entries_since(entry_id: int) -> int:
    return Entry.objects.filter(id__gt=entry_id).count()


# How long a till waits for a queued offline upload to be applied (a worker may have died meanwhile: its part
# is queued again a minute later, TERMINAL_BATCH_STALLED_SECONDS).
BATCH_WAIT_SECONDS = 300


@dataclass
class Result:
    tally: Tally
    seconds: float
    terminals: int
    stores: int
    batch_note: str = ""
    run_id: str = ""
    tills: list = field(default_factory=list)
    batches: list = field(default_factory=list)  # each queued upload's final status body

    def report(self) -> dict:
        """What the tills were told, to hold against the ledger (simulate_terminals --report)."""
        return {
            "run_id": self.run_id,
            "answers": [answer for till in self.tills for answer in till.received],
            "batches": self.batches,
            "failures": dict(self.tally.failures),
        }


def drive(
    *,
    client: Client,
    secrets: dict,
    cards: list,
    minutes: float,
    rate: float,
    seed=None,
    cut_bodies=False,
    batch_items: int = 4,
) -> Result:
    """Run one thread per terminal for `minutes`, then the offline uploads."""
    master = random.Random(seed)
    tally, pool = Tally(), CardPool()
    for card in cards:
        pool.note(card, 0)
    run_id = uuid.uuid4().hex[:8]
    faults = {**FAULTS, **(CUT_BODY if cut_bodies else {})}
    began = time.monotonic()
    deadline = began + minutes * 60
    tills = [
        Till(code, secret, client, pool, tally, random.Random(master.getrandbits(64)), rate, deadline, run_id, faults)
        for code, secret in sorted(secrets.items())
    ]
    threads = [threading.Thread(target=till.run, name=f"till-{till.code}", daemon=True) for till in tills]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + MAX_ATTEMPTS * (TIMEOUT + 5))
    seconds = time.monotonic() - began
    batches: list = []
    note = offline_batches(client=client, tills=tills[::4], tally=tally, items=batch_items, batches=batches)
    return Result(
        tally=tally,
        seconds=seconds,
        terminals=len(tills),
        stores=0,
        batch_note=note,
        run_id=run_id,
        tills=tills,
        batches=batches,
    )


def _batch_items(till: Till, count: int) -> list[dict]:
    """Earns stored over the last hour, and one that had gone through online before the line dropped."""
    items = []
    for n in range(count):
        card = till.pool.for_earn(till.rng)
        item = till.purchase_body(card, f"OFF-{n}", amount_yen=till.rng.choice([500, 1_200, 3_300]))
        item["occurred_at"] = now(-datetime.timedelta(seconds=3000 * (count - n) / count))
        items.append({"op": "earn", "key": f"off-{till.run_id}-{till.code}-{n}", **item})
    if till.earned:
        key, payload = till.earned[0]
        items.append({"op": "earn", "key": key, **payload})
    return items


def offline_batches(*, client: Client, tills: list[Till], tally: Tally, items: int = 4, batches=None) -> str:
    """One upload per till of every fourth terminal, its first answer lost, so sent twice. An upload answered
    202 (queued for the workers) is followed until it is applied, as a till does."""
    try:
        probe = client.send("GET", "/batch", secret=tills[0].secret)
    except OSError as error:
        tally.fail("batch endpoint unreachable", str(error).encode())
        return ""
    tally.sent()
    if probe.status == 501:
        return "POST /api/v1/batch answers 501 (not built yet): offline uploads skipped."
    for till in tills:
        online = {key for key, _payload in till.earned[:1]}
        till.next_receipt()
        answer = till.write("batch", "/batch", {"items": _batch_items(till, items)}, fault="lost_answer")
        if answer is not None and answer.status == 202:
            answer = _batch_followed(client, till, answer, tally)
            if batches is not None and answer is not None:
                batches.append(answer.data)
        if answer is not None:
            _check_batch(tally, answer, online_keys=online)
    return f"{len(tills)} offline upload(s) sent, each twice."


def _batch_followed(client: Client, till: Till, accepted: Answer, tally: Tally) -> Answer | None:
    """The queued upload's status, read every second until it is done or failed."""
    path = accepted.data["status_url"].removeprefix(client.prefix)
    deadline = time.monotonic() + BATCH_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            answer = client.send("GET", path, secret=till.secret)
        except OSError:
            tally.fault("connection_error")
            continue
        if answer.status != 200:
            tally.answered("batch status", answer)
            continue
        if answer.data.get("status") == "done":
            return answer
        if answer.data.get("status") == "failed":
            tally.fail("a queued offline upload failed", answer.body[:200])
            return None
    tally.fail(f"a queued offline upload was not applied within {BATCH_WAIT_SECONDS} s")
    return None


def _check_batch(tally: Tally, answer: Answer, *, online_keys: set) -> None:
    """Count each item's outcome; an item that had gone through online must not be applied again."""
    for result in answer.data.get("results") or [] if answer.status == 200 else []:
        error = result.get("error") or {}
        tally.count(f"batch item {result.get('status')} {error.get('code', '')}".rstrip())
        if error.get("code") in BROKEN_CODES:
            tally.fail(f"batch item {error['code']}", json.dumps(result)[:200].encode())
        elif result.get("key") in online_keys and result.get("status") != "already_applied":
            tally.fail("an earn that went through online was not reported already applied in a batch")


def summary(result: Result, *, entries: int, problems: list) -> list[str]:
    tally = result.tally
    lines = [
        f"Terminals: {result.terminals} in {result.stores} store(s); ran {result.seconds:.1f} s.",
        f"Requests: {tally.requests} ({tally.requests / max(result.seconds, 0.001):.1f}/s), "
        f"retries: {tally.retries}, entries written: {entries}.",
        "Faults injected: " + (", ".join(f"{k} {v}" for k, v in sorted(tally.faults.items())) or "none") + ".",
        "Outcomes:",
        *(f"  {count:6d}  {outcome}" for outcome, count in sorted(tally.outcomes.items())),
    ]
    if result.batch_note:
        lines.append(result.batch_note)
    if tally.failures:
        lines.append("FAILURES:")
        lines += [f"  {count:6d}  {what}" for what, count in sorted(tally.failures.items())]
        lines += [f"  e.g. {sample}" for sample in tally.samples]
    lines.append("Ledger: " + ("verified (deep)." if not problems else "BROKEN:"))
    lines += [f"  {problem}" for problem in problems]
    return lines
