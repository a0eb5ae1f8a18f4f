"""A terminal over its rate is told to wait, and nothing it sent is written."""

import json
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache

from api import ratelimit
from api.tests.conftest import Till, now_iso
from points.models import Entry
from points.tests.factories import TerminalFactory, make_staff
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db

START = 1_800_000_000.0  # a moment on the limiter's clock, at the start of a window


@pytest.fixture(autouse=True)
def slow_rate(settings, monkeypatch):
    """Three requests per window of three seconds, on a clock that moves only when told,
    counted in a cache of this test's own (never a shared one that clear() would wipe)."""
    settings.TERMINAL_API_RATE = 1
    settings.TERMINAL_API_BURST = 3
    now = [START]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    monkeypatch.setattr(ratelimit, "cache", LocMemCache(f"test-{uuid.uuid4()}", {}))
    return now


def other_till(client, store):
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def use_up_burst(till):
    for n in range(3):
        assert till.get("day").status_code == 200, f"request {n + 1} of the burst was refused"


def test_request_beyond_the_burst_is_answered_429_with_retry_after(till):
    # given
    use_up_burst(till)
    # when
    response = till.earn(language="en")
    # then
    assert response.status_code == 429
    assert response["Retry-After"] == "3"
    body = json.loads(response.content)
    assert body["error"]["code"] == "rate_limited"
    assert "3 秒後に再送" in body["error"]["message"]


def test_refused_earn_writes_no_ledger_entry(till):
    # given
    use_up_burst(till)
    # when
    response = till.earn()
    # then
    assert response.status_code == 429
    assert Entry.objects.count() == 0


def test_retry_after_counts_down_to_the_end_of_the_window(till, slow_rate):
    # given
    use_up_burst(till)
    slow_rate[0] = START + 1.5
    # when
    response = till.get("day")
    # then
    assert response.status_code == 429
    assert response["Retry-After"] == "2"


def test_another_terminal_is_not_limited_by_a_busy_one(client, till, store):
    # given
    other = other_till(client, store)
    use_up_burst(till)
    # when
    response = other.earn()
    # then
    assert response.status_code == 201
    assert till.get("day").status_code == 429


def test_requests_succeed_again_after_the_window(till, slow_rate):
    # given
    use_up_burst(till)
    assert till.earn().status_code == 429
    # when
    slow_rate[0] = START + 3
    response = till.earn()
    # then
    assert response.status_code == 201
    assert Entry.objects.count() == 1


def test_replays_count_like_new_requests(till):
    # given: one earn and two replays of it use up the burst
    body = {
        "card": {"type": "transit_ic", "number": "0123456789ABCDEF"},
        "amount_yen": 1_000,
        "receipt_no": "R-1",
        "occurred_at": now_iso(),
    }
    for _ in range(3):
        assert till.post("earn", body, key="till-key-1").status_code == 201
    # when
    replay = till.post("earn", body, key="till-key-1")
    # then
    assert replay.status_code == 429
    assert Entry.objects.count() == 1


def test_unauthenticated_requests_are_refused_before_they_are_counted(client, till):
    # given
    stranger = Till(client, till.terminal, "not-a-secret")
    for _ in range(5):
        assert stranger.get("day").status_code == 401
    # when
    response = till.get("day")
    # then
    assert response.status_code == 200


def test_a_new_secret_starts_a_new_count(till):
    # given
    use_up_burst(till)
    # when
    secret = terminal_issue_secret(terminal=till.terminal, staff=make_staff())
    till.terminal.refresh_from_db()
    response = Till(till.client, till.terminal, secret).get("day")
    # then
    assert response.status_code == 200


def test_zero_rate_turns_the_limit_off(till, settings):
    # given
    settings.TERMINAL_API_RATE = 0
    # when
    statuses = {till.get("day").status_code for _ in range(10)}
    # then
    assert statuses == {200}


def test_local_memory_counts_per_worker(till, monkeypatch):
    # given: the first worker process has seen the whole burst
    monkeypatch.setattr(ratelimit, "cache", LocMemCache(f"worker-a-{uuid.uuid4()}", {}))
    use_up_burst(till)
    # when: the next request reaches a second worker, with its own memory
    monkeypatch.setattr(ratelimit, "cache", LocMemCache(f"worker-b-{uuid.uuid4()}", {}))
    response = till.get("day")
    # then
    assert response.status_code == 200


class BrokenCache:
    def add(self, *args, **kwargs):
        raise ConnectionError("cache server down")


def test_requests_go_through_when_the_cache_is_down(till, monkeypatch):
    # given
    monkeypatch.setattr(ratelimit, "cache", BrokenCache())
    # when
    statuses = {till.get("day").status_code for _ in range(5)}
    # then
    assert statuses == {200}


def redis_cache(url, prefix):
    pytest.importorskip("redis")
    from django.core.cache.backends.redis import RedisCache

    backend = RedisCache(url, {"KEY_PREFIX": prefix})
    try:
        backend.get("ping")
    except Exception as error:  # any failure to connect means no server here
        pytest.skip(f"no Redis server at {url}: {error}")
    return backend


def test_redis_counts_once_for_all_workers(till, monkeypatch):
    # given: two worker processes, each with its own connection to one Redis
    url, prefix = "redis://127.0.0.1:6379/1", f"test-{uuid.uuid4()}"
    first, second = redis_cache(url, prefix), redis_cache(url, prefix)
    monkeypatch.setattr(ratelimit, "cache", first)
    use_up_burst(till)
    # when
    monkeypatch.setattr(ratelimit, "cache", second)
    response = till.get("day")
    # then
    assert response.status_code == 429
