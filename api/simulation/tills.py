"""The tills: one thread per terminal, and what they count together."""

from __future__ import annotations

import datetime
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from api.simulation.wire import TIMEOUT, Answer, Client

JST = datetime.timezone(datetime.timedelta(hours=9))
MAX_ATTEMPTS = 8
# Share of writes that meet each fault; the rest go through as sent.
FAULTS = {"lost_answer": 0.06, "cut_while_sending": 0.03, "dropped_before_answer": 0.03, "client_timeout": 0.03}
# The line drops inside the body: opt-in (--cut-bodies), since a server that
# takes the part it got for the whole request burns the key for the retry.
CUT_BODY = {"cut_in_body": 0.03}
OPERATIONS = {"earn": 50, "spend": 20, "void": 8, "refund": 7, "lookup": 15}
NEW_CARD_SHARE = 0.25
# Contract refusals: the simulated tills never reuse a key, so these mean the server mixed up requests.
BROKEN_CODES = {"idempotency_key_reused"}


@dataclass
class Tally:
    """What happened, counted across every till thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    retries: int = 0
    outcomes: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    samples: list = field(default_factory=list)

    def answered(self, op: str, answer: Answer) -> None:
        with self.lock:
            self.requests += 1
            self.outcomes[f"{op} {answer.status} {answer.code}".rstrip()] += 1
            if answer.status >= 500:
                self._fail(f"{answer.status} from {op}", answer.body[:200])
            elif answer.code in BROKEN_CODES:
                self._fail(f"{answer.code} from {op}", answer.body[:200])

    def sent(self) -> None:
        """A request that got no answer, by design or by accident."""
        with self.lock:
            self.requests += 1

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def fault(self, kind: str) -> None:
        with self.lock:
            self.faults[kind] += 1

    def retried(self) -> None:
        with self.lock:
            self.retries += 1

    def fail(self, what: str, detail=b"") -> None:
        with self.lock:
            self._fail(what, detail)

    def _fail(self, what: str, detail) -> None:
        self.failures[what] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{what}: {detail!r}")


@dataclass
class CardPool:
    """Cards the tills share, as members shop at several stores, with the balance last seen."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cards: list = field(default_factory=list)
    balances: dict = field(default_factory=dict)

    def for_earn(self, rng: random.Random) -> tuple[str, str]:
        with self.lock:
            if self.cards and rng.random() > NEW_CARD_SHARE:
                return rng.choice(self.cards)
        return ("transit_ic", f"{rng.getrandbits(64):016X}")

    def for_spend(self, rng: random.Random) -> tuple[tuple[str, str], int] | None:
        with self.lock:
            funded = [card for card, balance in self.balances.items() if balance > 0]
            if not funded:
                return None
            card = rng.choice(funded)
            return card, self.balances[card]

    def note(self, card: tuple[str, str], balance: int | None) -> None:
        with self.lock:
            if card not in self.balances:
                self.cards.append(card)
            self.balances[card] = balance or 0


@dataclass
class Till:
    """One terminal's thread: operations at a Poisson rate until the deadline."""

    code: str
    secret: str
    client: Client
    pool: CardPool
    tally: Tally
    rng: random.Random
    rate: float
    deadline: float
    run_id: str
    faults: dict = field(default_factory=lambda: dict(FAULTS))
    done: list = field(default_factory=list)  # (transaction_id, kind, amount_yen, card)
    earned: list = field(default_factory=list)  # (key, payload) of earns that went through online
    received: list = field(default_factory=list)  # every final answer to a write: op, key, status, transaction
    n: int = 0

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            time.sleep(min(self.rng.expovariate(self.rate), max(0.0, self.deadline - time.monotonic())))
            if time.monotonic() >= self.deadline:
                break
            op = self.rng.choices(list(OPERATIONS), weights=list(OPERATIONS.values()))[0]
            try:
                getattr(self, op)()
            except Exception as error:  # a till thread must not die silently
                self.tally.fail(f"client error in {op}: {type(error).__name__}", str(error).encode())

    def next_receipt(self) -> str:
        """Start a new operation (and so a new key); its receipt number."""
        self.n += 1
        return f"SIM-{self.n}"

    @property
    def key(self) -> str:
        """The current operation's Idempotency-Key, the same for every attempt."""
        return f"sim-{self.run_id}-{self.code}-{self.n}"

    def _fault(self) -> str | None:
        roll = self.rng.random()
        for kind, share in self.faults.items():
            if roll < share:
                return kind
            roll -= share
        return None

    def write(self, op: str, path: str, payload: dict, *, fault: str | None = None) -> Answer | None:
        """Send a write until it has a final answer, as a till retries: always with the same key."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        send = {"secret": self.secret, "body": body, "key": self.key}
        fault, lost = fault or self._fault(), None
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.tally.retried()
            try:
                if attempt == 0 and fault is not None:
                    self.tally.fault(fault)
                    if fault in ("cut_while_sending", "cut_in_body"):
                        self.tally.sent()
                        self.client.cut_while_sending("POST", path, **send, in_body=fault == "cut_in_body")
                        continue
                    if fault == "dropped_before_answer":
                        self.tally.sent()
                        self.client.drop_before_answer("POST", path, **send)
                        continue
                answer = self.client.send(
                    "POST", path, **send, timeout=0.005 if attempt == 0 and fault == "client_timeout" else TIMEOUT
                )
            except OSError:
                # A planned timeout, or a connection the server refused or reset: send again.
                if not (attempt == 0 and fault == "client_timeout"):
                    self.tally.fault("connection_error")
                self.tally.sent()
                time.sleep(0.05)
                continue
            self.tally.answered(op, answer)
            if not answer.final:
                time.sleep(min(max(answer.retry_after, 0.1), 5.0))
                continue
            if attempt == 0 and fault == "lost_answer":
                lost = answer
                continue
            if lost is not None and (lost.status, lost.body) != (answer.status, answer.body):
                self.tally.fail(f"replay of {op} differs from the first answer", answer.body[:200])
            told = {"op": op, "key": self.key, "status": answer.status}
            self.received.append({**told, "transaction_id": answer.data.get("transaction_id")})
            return answer
        self.tally.fail(f"{op} without a final answer after {MAX_ATTEMPTS} attempts")
        return None

    def earn(self) -> None:
        card = self.pool.for_earn(self.rng)
        receipt = self.next_receipt()
        amount = self.rng.choice([300, 540, 1_080, 2_200, 3_980, 12_800])
        payload = self.purchase_body(card, receipt, amount_yen=amount)
        answer = self.write("earn", "/earn", payload)
        if answer is not None and answer.status in (200, 201):
            self.pool.note(card, answer.data.get("balance"))
            self.earned.append((self.key, payload))
            if answer.data.get("transaction_id"):
                self.done.append((answer.data["transaction_id"], "earn", amount, card))

    def spend(self) -> None:
        funded = self.pool.for_spend(self.rng)
        if funded is None:
            return self.earn()
        card, balance = funded
        receipt = self.next_receipt()
        points = self.rng.randint(1, min(balance, 500))
        answer = self.write("spend", "/spend", self.purchase_body(card, receipt, points=points))
        if answer is None:
            return None
        if answer.status == 201:
            self.pool.note(card, answer.data.get("balance"))
            self.done.append((answer.data["transaction_id"], "spend", None, card))
        elif answer.code == "insufficient_points":
            self.pool.note(card, 0)
        return None

    def void(self, *, partial: bool = False) -> None:
        candidates = [i for i, done in enumerate(self.done) if not partial or (done[1] == "earn" and done[2] > 1)]
        if not candidates:
            return None
        transaction_id, _kind, amount, card = self.done.pop(self.rng.choice(candidates))
        self.next_receipt()
        payload = {"transaction_id": transaction_id, "occurred_at": now()}
        if partial:
            payload["refund_amount_yen"] = self.rng.randint(1, amount - 1)
        answer = self.write("refund" if partial else "void", "/void", payload)
        if answer is not None and answer.status == 201:
            self.pool.note(card, answer.data.get("balance"))
        return None

    def refund(self) -> None:
        self.void(partial=True)

    def lookup(self) -> None:
        card = self.pool.for_earn(self.rng)
        try:
            answer = self.client.send("GET", f"/cards/{card[0]}/{card[1]}", secret=self.secret)
        except OSError:
            self.tally.fault("connection_error")
            self.tally.sent()
            return
        self.tally.answered("lookup", answer)
        if answer.status == 200 and answer.data.get("card", {}).get("known"):
            self.pool.note(card, answer.data.get("balance"))

    def purchase_body(self, card, receipt, **fields) -> dict:
        return {"card": {"type": card[0], "number": card[1]}, "receipt_no": receipt, "occurred_at": now(), **fields}


def now(delta: datetime.timedelta = datetime.timedelta()) -> str:
    return (datetime.datetime.now(JST) + delta).isoformat(timespec="milliseconds")
