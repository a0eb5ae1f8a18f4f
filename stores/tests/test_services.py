import datetime
import hashlib

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from stores import services
from stores.models import Store, Terminal
from stores.selectors import terminal_authenticate
from stores.tests.factories import StoreFactory, TerminalFactory

pytestmark = pytest.mark.django_db


def test_issued_secret_is_stored_only_as_its_hash(secretariat):
    # given
    terminal = TerminalFactory()
    # when
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # then
    row = Terminal.objects.filter(pk=terminal.pk).values().get()
    assert all(secret not in str(value) for value in row.values())
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["secret_issued_at"] is not None


def test_issued_secret_is_long_and_different_each_time(secretariat):
    # given
    terminal = TerminalFactory()
    # when
    first = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    second = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # then
    assert len(first) >= 43  # 32 random bytes, base64url
    assert first != second


def test_terminal_authenticates_with_its_secret(secretariat):
    # given
    terminal = TerminalFactory()
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # when
    authenticated = terminal_authenticate(secret=secret)
    # then
    assert authenticated == terminal


@pytest.mark.parametrize("secret", ["", "not-a-secret", "x" * 43])
def test_unknown_secret_does_not_authenticate(secretariat, secret):
    # given
    services.terminal_issue_secret(terminal=TerminalFactory(), staff=secretariat)
    # when / then
    assert terminal_authenticate(secret=secret) is None


def test_reissued_secret_invalidates_the_old_one(secretariat):
    # given
    terminal = TerminalFactory()
    old = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # when
    new = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # then
    assert terminal_authenticate(secret=old) is None
    assert terminal_authenticate(secret=new) == terminal


def test_revoked_terminal_cannot_authenticate_at_once(secretariat):
    # given
    terminal = TerminalFactory()
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # when
    services.terminal_revoke(terminal=terminal, staff=secretariat)
    # then
    assert terminal_authenticate(secret=secret) is None
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.REVOKED
    assert terminal.secret_hash is None
    assert terminal.revoked_by == secretariat
    assert terminal.revoked_at is not None


def test_new_secret_does_not_reactivate_a_revoked_terminal(secretariat):
    # given
    terminal = TerminalFactory()
    services.terminal_revoke(terminal=terminal, staff=secretariat)
    # when
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # then
    assert terminal_authenticate(secret=secret) is None


def test_reactivated_terminal_works_with_a_new_secret(secretariat):
    # given
    terminal = TerminalFactory()
    services.terminal_revoke(terminal=terminal, staff=secretariat)
    # when
    services.terminal_reactivate(terminal=terminal, staff=secretariat)
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    # then
    assert terminal_authenticate(secret=secret) == terminal


def test_secret_changes_are_audited_without_the_secret(secretariat):
    # given
    terminal = TerminalFactory()
    # when
    secret = services.terminal_issue_secret(terminal=terminal, staff=secretariat)
    services.terminal_revoke(terminal=terminal, staff=secretariat)
    # then
    events = AuditEvent.objects.filter(object_type="stores.Terminal", object_id=str(terminal.pk)).order_by("id")
    assert [(e.actor, e.action, e.summary) for e in events] == [
        (secretariat, AuditEvent.Action.ACTION, "terminal secret issued"),
        (secretariat, AuditEvent.Action.ACTION, "terminal revoked"),
    ]
    assert all(secret not in str(row) for row in AuditEvent.objects.values())


def test_touch_records_when_the_terminal_was_last_heard_from():
    # given
    terminal = TerminalFactory()
    now = timezone.now()
    # when
    services.terminal_touch(terminal=terminal, now=now)
    # then
    terminal.refresh_from_db()
    assert terminal.last_seen_at == now


def test_touch_skips_the_database_while_the_last_seen_time_in_hand_is_recent(django_assert_num_queries):
    # given
    terminal = TerminalFactory()
    now = timezone.now()
    services.terminal_touch(terminal=terminal, now=now)
    # when / then
    with django_assert_num_queries(0):
        written = services.terminal_touch(terminal=terminal, now=now + datetime.timedelta(seconds=59))
    assert written is False


def test_touch_from_another_request_within_a_minute_writes_nothing(django_assert_num_queries):
    # given: two requests loaded the terminal before either touched it
    terminal = TerminalFactory()
    first, second = Terminal.objects.get(pk=terminal.pk), Terminal.objects.get(pk=terminal.pk)
    now = timezone.now()
    services.terminal_touch(terminal=first, now=now)
    # when
    with django_assert_num_queries(1):
        written = services.terminal_touch(terminal=second, now=now + datetime.timedelta(seconds=59))
    # then
    terminal.refresh_from_db()
    assert written is False
    assert terminal.last_seen_at == now


def test_touch_writes_again_after_a_minute():
    # given
    terminal = TerminalFactory()
    now = timezone.now()
    services.terminal_touch(terminal=terminal, now=now)
    # when
    later = now + datetime.timedelta(minutes=1)
    services.terminal_touch(terminal=terminal, now=later)
    # then
    terminal.refresh_from_db()
    assert terminal.last_seen_at == later


def test_suspended_store_can_be_reactivated(secretariat):
    # given
    store = StoreFactory()
    # when
    services.store_suspend(store=store, staff=secretariat)
    suspended = Store.objects.get(pk=store.pk).status
    services.store_reactivate(store=store, staff=secretariat)
    # then
    assert suspended == Store.Status.SUSPENDED
    assert Store.objects.get(pk=store.pk).status == Store.Status.ACTIVE
