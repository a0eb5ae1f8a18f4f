"""A large offline batch is answered 202 at once, applied by the workers, and read from its status URL."""

import datetime
import importlib
import random
import time
import uuid

import pytest
from django.test import Client
from django_q.conf import Conf

from api import tasks
from api.batch import applying, queued
from api.models import BatchPart, BatchUpload, IdempotencyRecord
from api.tests.conftest import Till
from api.tests.test_batch import ago, earn, spend
from points.models import Account, Entry
from points.tests.factories import TerminalFactory, make_card, make_staff
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db

CARDS = [{"type": "transit_ic", "number": f"A{n:015X}"} for n in range(4)]  # apart from make_card's numbers


class Worker:
    """The cluster as the tests drive it: what the batch queues is kept, and run when the test says."""

    def __init__(self, monkeypatch):
        self.queued: list[tuple[str, tuple]] = []
        monkeypatch.setattr(queued, "async_task", lambda func, *args, **options: self.queued.append((func, args)))

    def run(self) -> list:
        """Run every task queued so far, one after another, as a worker would."""
        done = []
        while self.queued:
            func, args = self.queued.pop(0)
            module, name = func.rsplit(".", 1)
            done.append(getattr(importlib.import_module(module), name)(*args))
        return done


@pytest.fixture
def worker(monkeypatch):
    return Worker(monkeypatch)


@pytest.fixture
def post(till, settings, django_capture_on_commit_callbacks):
    """Upload as the till does, the upload's transaction committed (so that its parts are queued)."""
    settings.TERMINAL_API_BATCH_INLINE_MAX = 3

    def post(*items, key="upload-1"):
        with django_capture_on_commit_callbacks(execute=True):
            return till.post("batch", {"items": list(items)}, key=key)

    return post


@pytest.fixture
def status(django_capture_on_commit_callbacks):
    """Read a batch's status URL as a till does (a part the read queues again is queued when it commits)."""

    def status(till, response):
        with django_capture_on_commit_callbacks(execute=True):
            return till.get(response["Location"].removeprefix("/api/v1/"))

    return status


def five_items():
    """Three cards, a spend that needs the earn before it in time, and a void of an earlier item by its key."""
    return [
        spend("s-1", 30, ago(minutes=10), card=CARDS[0]),
        earn("e-1", 5_000, ago(hours=1), card=CARDS[0]),
        earn("e-2", 2_000, ago(hours=1), card=CARDS[1]),
        {"op": "void", "key": "v-2", "void_key": "e-2", "occurred_at": ago(minutes=5)},
        earn("e-3", 1_000, ago(minutes=30), card=CARDS[2]),
    ]


def test_a_large_batch_is_answered_202_at_once_with_its_status_url(till, post, worker, status):
    response = post(*five_items())

    body = response.json()
    assert response.status_code == 202
    assert body == {
        "batch_id": body["batch_id"],
        "status": "queued",
        "status_url": f"/api/v1/batch/{uuid.UUID(body['batch_id'])}",
        "items": 5,
    }
    assert response["Location"] == body["status_url"]
    assert Entry.objects.count() == 0
    assert [func for func, _args in worker.queued] == ["api.tasks.apply_batch_part"] * BatchPart.objects.count()
    assert status(till, response).json() == {
        "batch_id": body["batch_id"],
        "status": "queued",
        "items": 5,
        "applied_so_far": 0,
        "counts": None,
        "results": None,
    }


def test_the_workers_apply_it_and_the_status_url_then_shows_every_result_in_the_order_sent(till, post, worker, status):
    response = post(*five_items())

    worker.run()

    shown = status(till, response).json()
    assert (shown["status"], shown["items"], shown["applied_so_far"]) == ("done", 5, 5)
    assert shown["counts"] == {"applied": 5, "already_applied": 0, "rejected": 0}
    assert [(line["key"], line["status"], line["http_status"]) for line in shown["results"]] == [
        ("s-1", "applied", 201),
        ("e-1", "applied", 201),
        ("e-2", "applied", 201),
        ("v-2", "applied", 201),
        ("e-3", "applied", 201),
    ]
    lines = {line["key"]: line for line in shown["results"]}
    assert lines["e-1"]["result"]["balance"] == 50 and lines["s-1"]["result"]["balance"] == 20
    assert lines["v-2"]["result"]["points"]["total"] == -20 and lines["v-2"]["result"]["balance"] == 0
    assert ledger_problems() == []


def test_its_results_are_the_answers_each_item_keeps(till, post, worker, settings, status):
    items = five_items()
    first = post(*items)
    worker.run()
    settings.TERMINAL_API_BATCH_INLINE_MAX = 200

    again = post(*items, key="upload-2")

    assert again.status_code == 200
    assert again.json()["counts"] == {"applied": 0, "already_applied": 5, "rejected": 0}
    stored = status(till, first).json()["results"]
    assert [line["result"] for line in again.json()["results"]] == [line["result"] for line in stored]


def test_a_retried_upload_gets_the_same_batch_whether_queued_running_or_done_and_nothing_twice(
    till, post, worker, monkeypatch, status
):
    items = five_items()
    first = post(*items)
    queued_before = len(worker.queued)
    while_queued = post(*items)
    while_running = []
    real_finish = queued._part_finish

    def finish_after_a_retry(part, mine):
        while_running.append(post(*items))
        real_finish(part, mine)

    monkeypatch.setattr(queued, "_part_finish", finish_after_a_retry)

    assert len(worker.queued) == queued_before  # the retry queued nothing
    worker.run()
    when_done = post(*items)

    for retry in [while_queued, *while_running, when_done]:
        assert retry.status_code == 202
        assert retry.content == first.content and retry["Location"] == first["Location"]
    assert while_running and not worker.queued
    assert status(till, first).json()["counts"] == {"applied": 5, "already_applied": 0, "rejected": 0}
    assert Entry.objects.filter(kind=Entry.Kind.EARN).count() == 3
    assert Entry.objects.count() == 5
    assert BatchUpload.objects.count() == 1


def test_the_same_batch_key_with_another_body_is_refused(post, worker):
    post(*five_items())

    other = post(*five_items()[:4])

    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_another_terminals_batch_and_an_unknown_one_are_not_found(client, till, post, worker, status):
    response = post(*five_items())
    terminal = TerminalFactory(store=till.terminal.store)
    other = Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))

    for answer in (
        status(other, response),
        till.get(f"batch/{uuid.uuid4()}"),
        till.get("batch/not-a-batch-id"),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "batch_not_found"


def test_the_status_url_needs_the_terminals_secret(client, till, post, worker):
    response = post(*five_items())

    assert client.get(response["Location"]).status_code == 401


def test_a_batch_of_up_to_the_inline_limit_is_still_answered_at_once(till, post, worker):
    response = post(*five_items()[:3])

    assert response.status_code == 200
    assert response.json()["counts"] == {"applied": 3, "already_applied": 0, "rejected": 0}
    assert not worker.queued and not BatchUpload.objects.exists()


def test_an_invalid_large_batch_is_refused_at_once(till, post, worker):
    response = post(*[{"nothing": n} for n in range(10_001)])

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert not worker.queued


def test_a_batch_whose_worker_died_half_way_is_finished_by_a_rerun_with_nothing_twice(
    till, post, worker, monkeypatch, status
):
    monkeypatch.setattr(applying, "CHUNK", 2)
    items = [earn(f"e-{n}", 1_000, ago(minutes=60 - n)) for n in range(6)]  # one card: one part
    real_response = applying._response

    def killed_at_fifth(upload, item):
        if item.key == "e-4":
            raise SystemExit("worker killed")
        return real_response(upload, item)

    response = post(*items)
    monkeypatch.setattr(applying, "_response", killed_at_fifth)
    with pytest.raises(SystemExit):
        worker.run()
    monkeypatch.setattr(applying, "_response", real_response)
    assert Entry.objects.count() == 4  # two whole chunks, nothing of the third

    soon = status(till, response).json()
    monkeypatch.setattr(queued, "STALLED_AFTER", datetime.timedelta(0))  # a minute later
    later = status(till, response).json()
    worker.run()

    assert (soon["status"], soon["applied_so_far"]) == ("running", 4) and not later["results"]
    shown = status(till, response).json()
    assert shown["status"] == "done"
    assert [line["status"] for line in shown["results"]] == ["already_applied"] * 4 + ["applied"] * 2
    assert Entry.objects.count() == 6
    assert Account.objects.get().balance == 60


def test_a_run_taken_for_dead_stops_when_it_wakes_up_and_the_rerun_finishes(till, post, worker, monkeypatch, status):
    response = post(*five_items())
    real_progress = queued._progress
    woken = []

    def stalled_for_a_minute(part, mine):
        if not woken:
            monkeypatch.setattr(queued, "STALLED_AFTER", datetime.timedelta(0))
            status(till, response)  # meanwhile a status read finds the part stalled and queues it again
            woken.append(part.pk)
        real_progress(part, mine)

    monkeypatch.setattr(queued, "_progress", stalled_for_a_minute)

    outcomes = worker.run()

    assert "superseded by a later run" in outcomes
    assert BatchPart.objects.get(pk=woken[0]).attempts == 2
    shown = status(till, response).json()
    assert shown["status"] == "done"
    assert shown["counts"]["applied"] + shown["counts"]["already_applied"] == 5
    assert Entry.objects.count() == 5


def test_a_part_delivered_twice_runs_once(till, post, worker, status):
    response = post(*five_items())
    worker.queued += worker.queued

    outcomes = worker.run()

    assert outcomes.count("not queued") == len(outcomes) // 2
    assert status(till, response).json()["counts"]["applied"] == 5
    assert Entry.objects.count() == 5


def test_a_part_that_kills_its_worker_every_time_fails_its_batch(till, post, worker, monkeypatch, status):
    response = post(*[earn(f"e-{n}", 1_000, ago(minutes=n)) for n in range(5)])  # one card: one part

    def killed(upload, items, keep_alive):
        raise SystemExit("worker killed")

    monkeypatch.setattr(queued, "apply_items", killed)
    monkeypatch.setattr(queued, "STALLED_AFTER", datetime.timedelta(0))
    for attempt in range(queued.MAX_ATTEMPTS):
        if attempt:
            status(till, response)  # finds the part dead and queues it again
        with pytest.raises(SystemExit):
            worker.run()

    shown = status(till, response).json()

    assert shown["status"] == "failed" and shown["counts"] is None and shown["results"] is None
    assert not worker.queued


def test_a_members_items_stay_in_one_part_whatever_card_they_use(till, post, worker, monkeypatch):
    monkeypatch.setattr(queued, "parts_wanted", lambda: 50)  # so that items split by chance would be seen
    online = till.earn(number=CARDS[3]["number"], amount=3_000, key="online-1").json()
    other_card = make_card(member=Entry.objects.get().card.member)
    items = [
        earn("e-1", 1_000, ago(hours=2), card=CARDS[3]),
        spend("s-1", 35, ago(hours=1), card={"type": "transit_ic", "number": other_card.number}),
        {"op": "void", "key": "v-1", "transaction_id": online["transaction_id"], "occurred_at": ago(minutes=5)},
        *[earn(f"x-{n}", 1_000, ago(minutes=50), card=CARDS[n]) for n in range(3)],
    ]

    post(*items)

    parts = [set(positions) for positions in BatchPart.objects.values_list("positions", flat=True)]
    assert sorted(position for part in parts for position in part) == list(range(6))
    assert any({0, 1, 2} <= part for part in parts)


def test_the_real_task_queue_runs_the_task(till, post, monkeypatch, status):
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the task in-process, as a worker would

    response = post(*five_items())

    assert status(till, response).json()["counts"] == {"applied": 5, "already_applied": 0, "rejected": 0}


def test_ten_thousand_items_complete(till, post, worker, status):
    # Slow on purpose (about 25 s here, where the parts run one after the other): 100 cards, earns and
    # spends shuffled, each spend only possible after the earn that comes before it in time.
    cards = [{"type": "transit_ic", "number": f"{n:016X}"} for n in range(100)]
    items = []
    for n in range(5_000):
        card = cards[n % 100]
        items.append(earn(f"e-{n}", 1_000, ago(hours=3, seconds=-2 * n), card=card))
        items.append(spend(f"s-{n}", 5, ago(hours=3, seconds=-2 * n - 1), card=card))
    random.Random(7).shuffle(items)

    started = time.monotonic()
    response = post(*items)
    accepted = time.monotonic() - started
    worker.run()
    elapsed = time.monotonic() - started

    print(f"10,000 items: 202 in {accepted:.1f} s, applied in {elapsed:.1f} s")
    assert response.status_code == 202
    shown = status(till, response).json()
    assert shown["counts"] == {"applied": 10_000, "already_applied": 0, "rejected": 0}
    assert len(shown["results"]) == 10_000
    assert {a.balance for a in Account.objects.all()} == {250}
    assert ledger_problems() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_apply_every_item_once_and_one_of_them_stores_the_answer(store, settings, worker, status):
    settings.TERMINAL_API_BATCH_INLINE_MAX = 10
    settings.TERMINAL_API_RATE = 0
    terminal = TerminalFactory(store=store)
    till = Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))
    cards = [{"type": "transit_ic", "number": f"{n:016X}"} for n in range(1, 41)]
    items = [earn(f"e-{n}", 1_000, ago(minutes=60 - n % 50), card=cards[n % 40]) for n in range(200)]
    response = till.post("batch", {"items": items}, key="upload-1")
    sent = worker.queued

    outcomes = run_at_once(len(sent), lambda i: tasks.apply_batch_part(*sent[i][1]))

    assert len(sent) == 2 and all(isinstance(outcome, str) for outcome in outcomes), outcomes
    shown = status(till, response).json()
    assert shown["status"] == "done" and shown["counts"]["applied"] == 200
    assert [line["key"] for line in shown["results"]] == [item["key"] for item in items]
    assert Entry.objects.count() == 200 and IdempotencyRecord.objects.count() == 201
    assert {a.balance for a in Account.objects.all()} == {50}
    assert ledger_problems(deep=True) == []
