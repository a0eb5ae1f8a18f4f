"""Concurrent requests through the whole request pipeline, on PostgreSQL with real threads."""

import json

import pytest
from django.test import Client

from api.tests.conftest import Till, now_iso
from points.models import Account, Entry
from points.tests.factories import StoreFactory, TerminalFactory, join, make_staff
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from stores.services import terminal_issue_secret

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def new_till(programme, store=None):
    terminal = TerminalFactory(store=store or join(StoreFactory(), programme))
    return Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def test_same_key_sent_concurrently_from_two_threads_writes_one_entry(till, programme):
    body = {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 5_000,
        "receipt_no": "R",
        "occurred_at": now_iso(),
    }
    tills = [Till(Client(), till.terminal, till.secret) for _ in range(2)]

    responses = run_at_once(2, lambda i: tills[i].post("earn", body, key="same-key"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409])  # the loser either waited for the answer or was told to retry
    assert Entry.objects.count() == 1
    retry = tills[0].post("earn", body, key="same-key")
    assert retry.status_code == 201 and json.loads(retry.content)["balance"] == 50


def test_two_terminals_spending_from_one_card_at_once_never_go_below_zero(programme):
    store = join(StoreFactory(), programme)
    tills = [new_till(programme, store) for _ in range(8)]
    tills[0].earn(amount=50_000)  # 500 points

    responses = run_at_once(8, lambda i: tills[i].spend(points=120))

    succeeded = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert (len(succeeded), len(refused)) == (4, 4)
    assert all(json.loads(r.content)["error"]["code"] == "insufficient_points" for r in refused)
    assert Account.objects.get().balance == 20
    assert ledger_problems(deep=True) == []
