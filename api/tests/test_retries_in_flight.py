"""A retry that arrives while the first request with its key is still inside its transaction, on PostgreSQL
with real threads: it waits and gets the first answer; if the first dies, the retry does the work, once;
past the lock timeout it is told to retry later."""

import threading

import pytest
from django.db import connection
from django.test import Client, override_settings

from api.tests.conftest import Till, now_iso
from points.models import Entry
from points.tests.factories import StoreFactory, TerminalFactory, join, make_staff
from points.verification import ledger_problems
from stores.services import terminal_issue_secret
from till import services as till_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Held:
    """An extra last step of the first earning: it waits inside the request's transaction until released,
    then lets the request go on, or (`die`) fails it as a crashed worker would. Later earnings pass."""

    def __init__(self, *, die=False):
        self.inside, self.release, self.die, self.calls = threading.Event(), threading.Event(), die, 0

    def __call__(self, earning):
        self.calls += 1
        if self.calls > 1:
            return
        self.inside.set()
        assert self.release.wait(10)
        if self.die:
            raise RuntimeError("the worker died")


@pytest.fixture
def body():
    return {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 5_000,
        "receipt_no": "R",
        "occurred_at": now_iso(),
    }


@pytest.fixture
def tills(programme):
    """Two tills sharing one terminal's secret: the first request and its retry on separate connections.
    Neither client re-raises a request's crash: the test client hears of any thread's, and answers 500."""
    terminal = TerminalFactory(store=join(StoreFactory(), programme))
    secret = terminal_issue_secret(terminal=terminal, staff=make_staff())
    return tuple(Till(Client(raise_request_exception=False), terminal, secret) for _ in range(2))


def send_while_held(tills, body, monkeypatch, held, *, hold_for=0.5):
    """The first request, held inside its transaction; the retry sent meanwhile; then the first let go.
    Returns both answers and whether the retry was still waiting when the first was let go."""
    monkeypatch.setattr(till_services, "EARN_STEPS", (*till_services.EARN_STEPS, held))
    answers = {}

    def send(name, till):
        try:
            answers[name] = till.post("earn", body, key="same-key")
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first", tills[0]))
    first.start()
    assert held.inside.wait(10)
    retry = threading.Thread(target=send, args=("retry", tills[1]))
    retry.start()
    retry.join(hold_for)
    waiting = retry.is_alive()
    held.release.set()
    first.join(10)
    retry.join(10)
    return answers, waiting


def test_a_retry_waits_for_the_first_request_and_gets_its_answer_byte_for_byte(tills, body, monkeypatch):
    answers, waiting = send_while_held(tills, body, monkeypatch, Held())

    assert waiting, "the retry was answered while the first request was still inside its transaction"
    assert answers["first"].status_code == 201
    assert answers["retry"].status_code == 201
    assert answers["retry"].content == answers["first"].content
    assert Entry.objects.count() == 1
    assert ledger_problems(deep=True) == []


def test_when_the_first_request_dies_the_waiting_retry_does_the_work_once(tills, body, monkeypatch):
    answers, waiting = send_while_held(tills, body, monkeypatch, Held(die=True))

    assert waiting
    assert answers["first"].status_code == 500
    assert answers["retry"].status_code == 201
    assert Entry.objects.count() == 1
    # The retry's answer is the one stored: a third send gets it back.
    third = tills[1].post("earn", body, key="same-key")
    assert (third.status_code, third.content) == (201, answers["retry"].content)
    assert ledger_problems(deep=True) == []


@override_settings(TERMINAL_API_LOCK_TIMEOUT_MS=200)
def test_a_retry_waiting_past_the_lock_timeout_is_told_to_retry_and_later_gets_the_answer(tills, body, monkeypatch):
    answers, waiting = send_while_held(tills, body, monkeypatch, Held(), hold_for=1.0)

    assert not waiting, "the retry should have stopped waiting after 200 ms"
    assert answers["retry"].status_code == 409
    assert answers["retry"].json()["error"]["code"] == "idempotency_in_progress"
    assert answers["retry"]["Retry-After"] == "1"
    assert answers["first"].status_code == 201
    later = tills[1].post("earn", body, key="same-key")
    assert (later.status_code, later.content) == (201, answers["first"].content)
    assert Entry.objects.count() == 1
