"""The read replica's router: which reads go to the replica and which stay on the primary.

The "replica" alias is a test mirror of the test database (loyalty/pytest_env.py): the same rows, through a
second connection, so the tests see where each read went. On a real streaming replica the bin/cluster scale
test reads the portal's figures (api/tests/test_cluster.py).
"""

import threading

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common import replica
from common.replica import PRIMARY, REPLICA, ReplicaRouter, read_alias, reading_from_replica
from members.models import Member

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def replica_on(settings):
    settings.DATABASE_REPLICA_READS = True
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 30
    settings.DATABASE_REPLICA_CHECK_SECONDS = 5
    replica.replica_lag_forget()
    yield
    replica.replica_lag_forget()


@pytest.fixture
def lag(monkeypatch):
    """The replica's lag as the router will be told it; counts how often it is asked."""
    state = {"seconds": 0.0, "asked": 0}

    def ask():
        state["asked"] += 1
        return state["seconds"]

    monkeypatch.setattr(replica, "_ask_lag", ask)
    return state


def test_reads_outside_the_context_stay_on_the_primary(lag):
    assert read_alias() == PRIMARY
    assert lag["asked"] == 0


def test_reads_inside_the_context_go_to_the_replica(lag):
    with reading_from_replica():
        assert read_alias() == REPLICA


def test_the_replica_serves_the_rows(lag):
    Member.objects.create()
    with reading_from_replica(), CaptureQueriesContext(connections[REPLICA]) as on_replica:
        members = list(Member.objects.all())
    assert len(members) == 1 and members[0]._state.db == REPLICA
    assert len(on_replica.captured_queries) == 1


def test_a_read_in_a_transaction_stays_on_the_primary(lag):
    with reading_from_replica(), transaction.atomic():
        assert read_alias() == PRIMARY


def test_a_read_after_a_write_stays_on_the_primary(lag):
    with reading_from_replica():
        assert read_alias() == REPLICA
        member = Member.objects.create()
        assert read_alias() == PRIMARY
        assert Member.objects.get(pk=member.pk)._state.db == PRIMARY


def test_a_write_made_before_the_context_does_not_hold_its_reads(lag):
    Member.objects.create()
    with reading_from_replica():
        assert read_alias() == REPLICA


def test_writes_always_go_to_the_primary(lag):
    with reading_from_replica():
        assert ReplicaRouter().db_for_write(Member) == PRIMARY
        member = Member.objects.create()
    assert member._state.db == PRIMARY


def test_an_object_read_from_the_replica_is_saved_on_the_primary(lag):
    member = Member.objects.create()
    with reading_from_replica():
        copy = Member.objects.get(pk=member.pk)
    copy.save()
    assert copy._state.db == PRIMARY


def test_a_replica_further_behind_than_the_setting_is_skipped(lag, settings):
    lag["seconds"] = 31.0
    with reading_from_replica():
        assert read_alias() == PRIMARY


def test_a_replica_within_the_lag_is_read(lag):
    lag["seconds"] = 29.0
    with reading_from_replica():
        assert read_alias() == REPLICA


def test_an_unreachable_replica_is_skipped(monkeypatch):
    class Down:
        vendor = "postgresql"

        def cursor(self):
            raise replica.DatabaseError("connection refused")

        def close(self):
            pass

    monkeypatch.setitem(replica.__dict__, "connections", {REPLICA: Down(), PRIMARY: connections[PRIMARY]})
    with reading_from_replica():
        assert read_alias() == PRIMARY


def test_the_lag_is_asked_at_most_every_few_seconds(lag, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock["now"])
    with reading_from_replica():
        for _ in range(10):
            read_alias()
        assert lag["asked"] == 1
        clock["now"] += 4.9
        read_alias()
        assert lag["asked"] == 1
        clock["now"] += 0.2
        read_alias()
        assert lag["asked"] == 2


def test_a_replica_that_caught_up_is_read_again_after_the_next_check(lag, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock["now"])
    lag["seconds"] = 120.0
    with reading_from_replica():
        assert read_alias() == PRIMARY
        lag["seconds"] = 0.0
        clock["now"] += 6
        assert read_alias() == REPLICA


def test_without_a_replica_everything_reads_the_primary(lag, settings):
    settings.DATABASE_REPLICA_READS = False
    with reading_from_replica():
        assert read_alias() == PRIMARY
    assert lag["asked"] == 0


def test_the_decorator_gives_each_call_its_own_context(lag):
    seen = []

    @reading_from_replica()
    def view(write: bool):
        if write:
            Member.objects.create()
        seen.append(read_alias())

    view(True)
    view(False)
    assert seen == [PRIMARY, REPLICA]


def test_another_thread_does_not_inherit_the_context(lag):
    seen = []
    with reading_from_replica():
        thread = threading.Thread(target=lambda: seen.append(read_alias()))
        thread.start()
        thread.join()
    assert seen == [PRIMARY]


def test_the_lag_of_a_database_that_is_no_standby_is_none():
    # A primary (or the test mirror on PostgreSQL) answers 0: pg_is_in_recovery() is false.
    assert replica._ask_lag() == 0.0


# --- the views that opt in ----------------------------------------------------------------------------


def test_the_analytics_report_reads_the_replica(lag, secretariat_client):
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = secretariat_client.get(reverse("admin:analytics_pointsreport_report"))
    assert response.status_code == 200
    assert on_replica.captured_queries


def test_the_portals_dashboard_reads_the_replica(lag, client, store):
    from portal.tests.conftest import make_merchant_user

    client.force_login(make_merchant_user(store.merchant, username="shop"))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert store.name in response.content.decode()
    assert on_replica.captured_queries
