import json

import pytest

from api.tests.conftest import now_iso
from members.models import Card
from points.models import Entry
from points.tests.factories import make_staff
from stores.services import store_suspend, terminal_revoke

pytestmark = pytest.mark.django_db


def test_first_touch_of_an_unknown_card_earns_and_tells_how_to_register(till):
    response = till.earn(amount=1_234)

    assert response.status_code == 201
    receipt = response.json()
    assert receipt["points"] == {"base": 12, "bonuses": [], "total": 12}
    assert receipt["balance"] == 12
    assert receipt["card"]["created_now"] and not receipt["card"]["registered"]
    assert "登録" in receipt["registration_notice"]
    assert receipt["expiring_soon"] == []
    assert Card.objects.get().first_seen_store_code == till.terminal.store.code


def earn_body(amount):
    return {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": amount,
        "receipt_no": "R-1",
        "occurred_at": now_iso(),
    }


def test_retry_after_a_lost_answer_returns_the_first_answer_byte_for_byte(till):
    body = earn_body(5_000)
    first = till.post("earn", body, key="till-7-000123")
    till.earn(amount=2_000)  # the balance moves on; the replayed answer must not
    retry = till.post("earn", body, key="till-7-000123")

    assert retry.status_code == first.status_code == 201
    assert retry.content == first.content
    assert Entry.objects.count() == 2


def test_same_key_with_a_different_body_is_refused(till):
    till.earn(amount=5_000, key="k-1")

    response = till.earn(amount=6_000, key="k-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Entry.objects.count() == 1


def test_a_validation_failure_is_replayed_too(till):
    body = earn_body(-5)
    first = till.post("earn", body, key="bad-1")
    retry = till.post("earn", body, key="bad-1")

    assert first.status_code == 400 and retry.content == first.content
    assert first.json()["error"]["details"][0]["field"] == "amount_yen"


def test_a_write_without_idempotency_key_is_refused(till):
    response = till.client.post("/api/v1/earn", data="{}", content_type="application/json", headers=till.headers())

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount_yen": "1000"}, "amount_yen"),
        ({"amount_yen": 10.5}, "amount_yen"),
        ({"amount_yen": 10**12}, "amount_yen"),
        ({"tip": 100}, "tip"),
        ({"occurred_at": "2026-11-24T10:00:00"}, "occurred_at"),
    ],
)
def test_bad_input_gets_4xx_and_no_entry(till, body, field):
    base = {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 1000,
        "receipt_no": "R",
        "occurred_at": now_iso(),
    }

    response = till.post("earn", {**base, **body})

    assert response.status_code == 400
    assert field in {detail["field"] for detail in response.json()["error"]["details"]}
    assert not Entry.objects.exists() and not Card.objects.exists()


def test_malformed_card_id_is_refused_in_the_callers_language(till):
    ja = till.earn(number="XYZ12345", key="c1")
    en = till.post(
        "earn",
        {
            "card": {"type": "transit_ic", "number": "XYZ12345"},
            "amount_yen": 1,
            "receipt_no": "R",
            "occurred_at": now_iso(),
        },
        key="c2",
        language="en",
    )

    assert ja.status_code == en.status_code == 400
    assert ja.json()["error"]["code"] == "invalid_card"
    assert "16" in ja.json()["error"]["message"] and "hexadecimal" in en.json()["error"]["message"]


def test_not_json_and_oversized_bodies_are_4xx(till, settings):
    assert till.post("earn", None, raw="{not json").status_code == 400
    settings.TERMINAL_API_MAX_BODY = 100
    assert till.post("earn", None, raw="{" + " " * 200 + "}").status_code == 413


def test_future_and_too_old_purchases_are_refused(till):
    import datetime

    future = till.earn(occurred_at=now_iso(datetime.timedelta(hours=1)))
    old = till.earn(occurred_at=now_iso(-datetime.timedelta(days=30)))

    assert future.json()["error"]["code"] == "occurred_at_in_future"
    assert old.json()["error"]["code"] == "occurred_at_too_old"
    assert not Entry.objects.exists()


def test_spend_never_more_than_the_balance(till):
    till.earn(amount=10_000)

    refused = till.spend(points=101)
    spent = till.spend(points=100)

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "insufficient_points"
    assert spent.status_code == 201 and spent.json()["balance"] == 0
    assert spent.json()["points"]["total"] == -100


def test_spend_on_an_unknown_card_is_404(till):
    response = till.spend(number="FFFFFFFFFFFFFFFF")

    assert response.status_code == 404 and response.json()["error"]["code"] == "card_not_found"


def test_void_after_a_partial_spend_leaves_debt_repaid_by_next_earning(till):
    earned = till.earn(amount=10_000).json()
    till.spend(points=60)

    voided = till.void(earned["transaction_id"])

    assert voided.status_code == 201
    assert (voided.json()["balance"], voided.json()["debt"]) == (0, 60)
    assert till.earn(amount=10_000).json()["balance"] == 40


def test_partial_refund_reverses_in_proportion(till):
    earned = till.earn(amount=1_000).json()

    refund = till.void(earned["transaction_id"], refund_amount_yen=250)

    assert refund.json()["points"]["total"] == -3  # 2.5 rounded against the member
    assert refund.json()["balance"] == 7


def test_void_of_another_stores_transaction_is_404(till, client, programme):
    from api.tests.conftest import Till
    from points.tests.factories import StoreFactory, TerminalFactory, join
    from stores.services import terminal_issue_secret

    other_terminal = TerminalFactory(store=join(StoreFactory(), programme))
    other = Till(client, other_terminal, terminal_issue_secret(terminal=other_terminal, staff=make_staff()))
    earned = other.earn(amount=1_000).json()

    response = till.void(earned["transaction_id"])

    assert response.status_code == 404


def test_card_lookup(till):
    till.earn(amount=3_000)

    known = till.get("cards/transit_ic/0123456789abcdef").json()
    unknown = till.get("cards/transit_ic/FFFFFFFFFFFFFFFF").json()

    assert (known["card"]["known"], known["balance"]) == (True, 30)
    assert known["expiring_soon"] == []
    assert (unknown["card"]["known"], unknown["balance"]) == (False, 0)
    assert not Card.objects.filter(number_last4="FFFF").exists()


def test_the_terminals_day_lists_its_transactions_and_totals(till):
    till.earn(amount=3_000)
    till.earn(amount=2_000, number="0123456789ABCDEE")
    till.spend(points=10)

    day = till.get("day").json()

    assert len(day["lines"]) == 3
    assert {t["kind"]: (t["count"], t["points"], t["amount_yen"]) for t in day["totals"]} == {
        "earn": (2, 50, 5_000),
        "spend": (1, -10, 0),
    }


def test_unknown_or_revoked_terminal_gets_401_at_once(till):
    assert till.earn().status_code == 201
    till.secret = "not-the-secret"
    assert till.earn().status_code == 401

    terminal_revoke(terminal=till.terminal, staff=make_staff())
    response = till.get("day")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


def test_terminal_of_a_suspended_store_gets_403(till):
    store_suspend(store=till.terminal.store, staff=make_staff())

    response = till.earn()

    assert response.status_code == 403 and response.json()["error"]["code"] == "store_suspended"


def test_a_body_cut_short_is_refused_without_using_up_the_key(till, rf):
    from api import views

    body = json.dumps(earn_body(1_000)).encode()
    request = rf.post("/api/v1/earn", data=body[:40], content_type="application/json", headers=till.headers("cut-1"))
    request.META["CONTENT_LENGTH"] = str(len(body))  # the till announced the whole body; the connection dropped

    cut = views.earn(request)
    whole = till.post("earn", json.loads(body), key="cut-1")

    assert cut.status_code == 400 and json.loads(cut.content)["error"]["code"] == "body_incomplete"
    assert whole.status_code == 201
