"""A terminal that was offline uploads its stored transactions in one batch."""

import datetime
import uuid

import pytest
from django.test import Client

from api.batch import applying
from api.batch.items import canonical_json
from api.tests.conftest import Till, now_iso
from points.models import Account, Entry
from points.tests.factories import StoreFactory, TerminalFactory, join, make_staff
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db

CARD = {"type": "transit_ic", "number": "0123456789ABCDEF"}


def ago(**delta):
    return now_iso(-datetime.timedelta(**delta))


def earn(key, amount, occurred_at, card=CARD):
    return {
        "op": "earn",
        "key": key,
        "card": card,
        "amount_yen": amount,
        "receipt_no": f"R-{key}",
        "occurred_at": occurred_at,
    }


def spend(key, points, occurred_at, card=CARD):
    return {
        "op": "spend",
        "key": key,
        "card": card,
        "points": points,
        "receipt_no": f"R-{key}",
        "occurred_at": occurred_at,
    }


def upload(till, *items, key=None):
    return till.post("batch", {"items": list(items)}, key=key or f"batch-{uuid.uuid4()}")


def by_key(response):
    return {line["key"]: line for line in response.json()["results"]}


def test_items_are_applied_in_order_of_time_and_answered_in_order_sent(till):
    # The spend is listed first but happened after the earn that pays for it.
    response = upload(till, spend("s-1", 30, ago(minutes=10)), earn("e-1", 5_000, ago(hours=1)))

    assert response.status_code == 200
    lines = response.json()["results"]
    assert [(line["key"], line["status"], line["http_status"]) for line in lines] == [
        ("s-1", "applied", 201),
        ("e-1", "applied", 201),
    ]
    assert lines[1]["result"]["balance"] == 50 and lines[0]["result"]["balance"] == 20
    assert response.json()["counts"] == {"applied": 2, "already_applied": 0, "rejected": 0}


def test_a_refused_item_does_not_stop_the_others(till):
    response = upload(
        till,
        earn("e-1", 1_000, ago(hours=2)),
        spend("s-too-much", 500, ago(hours=1)),
        spend("s-1", 10, ago(minutes=30)),
    )

    lines = by_key(response)
    assert lines["s-too-much"]["status"] == "rejected" and lines["s-too-much"]["http_status"] == 409
    assert lines["s-too-much"]["error"]["code"] == "insufficient_points"
    assert lines["s-1"]["status"] == "applied" and lines["s-1"]["result"]["balance"] == 0
    assert Entry.objects.count() == 2


def test_a_key_twice_in_one_batch_is_applied_once(till):
    response = upload(till, earn("e-1", 1_000, ago(hours=1)), earn("e-1", 1_000, ago(hours=1)))

    first, second = response.json()["results"]
    assert first["status"] == "applied"
    assert second["status"] == "rejected" and second["error"]["code"] == "duplicate_key"
    assert Entry.objects.count() == 1


def test_a_resent_batch_applies_nothing_again(till):
    items = [earn("e-1", 1_000, ago(hours=2)), spend("s-1", 5, ago(hours=1)), spend("s-2", 500, ago(minutes=5))]
    first = upload(till, *items, key="upload-1")

    again = upload(till, *items, key="upload-2")

    assert [line["status"] for line in again.json()["results"]] == ["already_applied", "already_applied", "rejected"]
    assert [line["result"] for line in again.json()["results"]] == [line["result"] for line in first.json()["results"]]
    assert again.json()["results"][2]["error"]["code"] == "insufficient_points"
    assert Entry.objects.count() == 2


def test_the_same_batch_key_returns_the_first_answer_byte_for_byte(till):
    items = [earn("e-1", 1_000, ago(hours=1))]
    first = upload(till, *items, key="upload-1")
    till.earn(amount=5_000)  # the balance moves on; the replayed answer must not

    again = upload(till, *items, key="upload-1")

    assert again.status_code == first.status_code == 200
    assert again.content == first.content
    assert Entry.objects.count() == 2


def test_an_item_that_went_through_online_is_reported_already_applied(till):
    online = earn("till-7-000123", 5_000, ago(minutes=20))
    sent = till.post("earn", {k: v for k, v in online.items() if k not in ("op", "key")}, key="till-7-000123")

    response = upload(till, online, earn("till-7-000124", 1_000, ago(minutes=10)))

    lines = by_key(response)
    assert lines["till-7-000123"]["status"] == "already_applied"
    assert lines["till-7-000123"]["result"] == sent.json()
    assert lines["till-7-000124"]["status"] == "applied" and lines["till-7-000124"]["result"]["balance"] == 60
    assert Entry.objects.count() == 2


def test_an_item_with_the_key_of_a_different_request_is_refused(till):
    till.earn(amount=5_000, key="k-1")

    response = upload(till, earn("k-1", 6_000, ago(minutes=5)))

    line = response.json()["results"][0]
    assert line["status"] == "rejected" and line["error"]["code"] == "idempotency_key_reused"
    assert Entry.objects.count() == 1


def test_a_single_retry_after_the_batch_gets_the_items_answer(till):
    item = earn("e-1", 1_000, ago(minutes=5))
    response = upload(till, item)

    alone = {k: v for k, v in item.items() if k not in ("op", "key")}
    retry = till.post("earn", None, key="e-1", raw=canonical_json(alone))

    assert retry.status_code == 201
    assert retry.json() == response.json()["results"][0]["result"]
    assert Entry.objects.count() == 1


def test_future_and_too_old_items_are_refused_with_their_reason_while_others_apply(till):
    response = upload(
        till,
        earn("future", 1_000, now_iso(datetime.timedelta(hours=1))),
        earn("old", 1_000, ago(days=30)),
        earn("ok", 1_000, ago(days=6)),
    )

    lines = by_key(response)
    assert (lines["future"]["http_status"], lines["future"]["error"]["code"]) == (422, "occurred_at_in_future")
    assert (lines["old"]["http_status"], lines["old"]["error"]["code"]) == (422, "occurred_at_too_old")
    assert "7" in lines["old"]["error"]["message"]
    assert lines["ok"]["status"] == "applied"
    assert response.json()["counts"] == {"applied": 1, "already_applied": 0, "rejected": 2}
    assert Entry.objects.count() == 1


def test_an_invalid_item_is_refused_with_its_fields_named(till):
    response = upload(till, earn("bad", -5, ago(minutes=5)), {"key": "no-op"}, earn("good", 1_000, ago(minutes=5)))

    bad, no_op, good = response.json()["results"]
    assert bad["status"] == "rejected" and bad["error"]["code"] == "invalid_request"
    assert bad["error"]["details"][0]["field"] == "amount_yen"
    assert no_op["status"] == "rejected" and no_op["error"]["details"][0]["field"] == "op"
    assert good["status"] == "applied"


def test_void_by_the_key_of_the_purchase(till):
    online = till.earn(amount=2_000, key="online-1").json()
    response = upload(
        till,
        earn("e-1", 1_000, ago(hours=1)),
        {"op": "void", "key": "v-1", "void_key": "e-1", "occurred_at": ago(minutes=30)},
        {"op": "void", "key": "v-2", "void_key": "online-1", "refund_amount_yen": 1_000, "occurred_at": ago(minutes=1)},
        {"op": "void", "key": "v-3", "void_key": "never-sent", "occurred_at": ago(minutes=1)},
    )

    lines = by_key(response)
    assert lines["v-1"]["status"] == "applied" and lines["v-1"]["result"]["points"]["total"] == -10
    assert lines["v-2"]["status"] == "applied" and lines["v-2"]["result"]["points"]["total"] == -10
    assert lines["v-2"]["result"]["balance"] == online["balance"] - 10
    assert lines["v-3"]["error"]["code"] == "transaction_not_found"


def test_a_batch_cut_off_by_a_crash_is_finished_by_its_retry(till, monkeypatch):
    monkeypatch.setattr(applying, "CHUNK", 2)
    items = [earn(f"e-{n}", 1_000, ago(minutes=60 - n)) for n in range(6)]
    real_response = applying._response

    def crash_at_fifth(upload, item):
        if item.key == "e-4":
            raise RuntimeError("worker killed")
        return real_response(upload, item)

    monkeypatch.setattr(applying, "_response", crash_at_fifth)
    with pytest.raises(RuntimeError):
        upload(till, *items, key="upload-1")
    assert Entry.objects.count() == 4  # two whole chunks, nothing of the third
    monkeypatch.setattr(applying, "_response", real_response)

    retry = upload(till, *items, key="upload-1")

    assert [line["status"] for line in retry.json()["results"]] == ["already_applied"] * 4 + ["applied"] * 2
    assert Entry.objects.count() == 6
    assert Account.objects.get().balance == 60


def test_a_batch_needs_items_and_an_idempotency_key(till):
    assert till.post("batch", {"items": []}).json()["error"]["code"] == "invalid_request"
    no_key = till.client.post("/api/v1/batch", data="{}", content_type="application/json", headers=till.headers())
    assert no_key.json()["error"]["code"] == "idempotency_key_missing"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_racing_single_spends_never_takes_a_card_below_zero(programme):
    store = join(StoreFactory(), programme)
    tills = []
    for _n in range(5):
        terminal = TerminalFactory(store=store)
        tills.append(Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff())))
    tills[0].earn(amount=50_000)  # 500 points
    items = [spend(f"s-{n}", 60, ago(minutes=10 - n)) for n in range(10)]

    def work(i):
        if i == 0:
            return upload(tills[0], *items)
        return [tills[i].spend(points=60) for _ in range(2)]

    batch_response, *singles = run_at_once(5, work)

    applied = batch_response.json()["counts"]["applied"]
    spent_alone = sum(r.status_code == 201 for responses in singles for r in responses)
    assert applied + spent_alone == 8  # 500 // 60
    assert Account.objects.get().balance == 20
    assert ledger_problems(deep=True) == []


def test_a_batch_has_its_own_body_limit(till, settings):
    settings.TERMINAL_API_BATCH_INLINE_MAX = 400  # answered at once, as the test reads it
    items = [earn(f"e-{n}", 1_000, ago(minutes=5)) for n in range(400)]  # about 80 kB, over a single request's limit

    assert upload(till, *items).status_code == 200
    settings.TERMINAL_API_MAX_BATCH_BODY = 1_000
    too_large = upload(till, *items)
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "body_too_large"


def test_a_key_taken_by_a_single_request_while_the_batch_runs_is_not_applied_twice(till, monkeypatch):
    online = earn("k-1", 5_000, ago(minutes=20))
    till.post("earn", {k: v for k, v in online.items() if k not in ("op", "key")}, key="k-1")
    # As if the single request had landed after the batch looked its keys up.
    monkeypatch.setattr(applying, "_recall", lambda upload, items: None)

    response = upload(till, online, earn("k-2", 1_000, ago(minutes=10)))

    lines = by_key(response)
    assert lines["k-1"]["status"] == "already_applied"
    assert lines["k-2"]["status"] == "applied" and lines["k-2"]["result"]["balance"] == 60
    assert Entry.objects.count() == 2
