import datetime
import itertools
import json

import pytest
from django.utils import timezone

from points.tests.factories import TerminalFactory, make_staff
from stores.services import terminal_issue_secret

_keys = itertools.count()


class Till:
    """A terminal as the tests drive it: its bearer secret and the Django test client."""

    def __init__(self, client, terminal, secret):
        self.client, self.terminal, self.secret = client, terminal, secret

    def headers(self, key=None, language="ja"):
        headers = {"Authorization": f"Bearer {self.secret}", "Accept-Language": language}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path, body, *, key=None, language="ja", raw=None):
        key = key if key is not None else f"k{next(_keys)}"
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            f"/api/v1/{path}", data=data, content_type="application/json", headers=self.headers(key, language)
        )

    def get(self, path, *, language="ja"):
        return self.client.get(f"/api/v1/{path}", headers=self.headers(language=language))

    def earn(self, number="0123456789ABCDEF", amount=1_000, *, card_type="transit_ic", key=None, **extra):
        body = {
            "card": {"type": card_type, "number": number},
            "amount_yen": amount,
            "receipt_no": "R-1",
            "occurred_at": now_iso(),
            **extra,
        }
        return self.post("earn", body, key=key)

    def spend(self, number="0123456789ABCDEF", points=10, *, key=None, **extra):
        body = {
            "card": {"type": "transit_ic", "number": number},
            "points": points,
            "receipt_no": "R-2",
            "occurred_at": now_iso(),
            **extra,
        }
        return self.post("spend", body, key=key)

    def void(self, transaction_id, *, key=None, **extra):
        return self.post("void", {"transaction_id": transaction_id, "occurred_at": now_iso(), **extra}, key=key)


def now_iso(delta=datetime.timedelta()):
    return (timezone.now() + delta).isoformat()


@pytest.fixture
def till(client, store):
    terminal = TerminalFactory(store=store)
    secret = terminal_issue_secret(terminal=terminal, staff=make_staff())
    return Till(client, terminal, secret)
