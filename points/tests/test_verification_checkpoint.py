"""verify_ledger from its checkpoint: what changed after it is found, what lies before it is not read again,
`--full` reads it all, and only a passing run moves the checkpoint."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points import tasks
from points.models import Account, Checkpoint, CheckpointAccount, Entry, Lot, LotUse
from points.services import points_earn, points_spend
from points.services.verification import points_verify_ledger
from points.tests.factories import trigger_disabled
from points.verification import final_before

pytestmark = pytest.mark.django_db


def later(days=2):
    """A moment at which everything written so far is final (recorded before the start of the day before)."""
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def checkpointed(ledger, store):
    """The two members' points, verified, the second's lot now spent to the last point."""
    card, other = ledger
    points_spend(card=other, store=store, points=Account.objects.get(member=other.member).balance, idempotency_key="s2")
    verification = points_verify_ledger(deep=True, now=later())
    assert verification.problems == [] and verification.since is None and verification.moved
    return card, other


def broken(**kwargs):
    return {problem.rule.name for problem in points_verify_ledger(now=later(), **kwargs).problems}


def bypass_append_only():
    """Let this test's transaction change a checkpointed entry, as only someone bypassing the triggers could."""
    trigger_disabled("points_entry", "points_entry_refuse_change")


def test_the_checkpoint_sums_every_final_row(checkpointed):
    point = Checkpoint.objects.get()
    assert point.entry_through == Entry.objects.order_by("-id").first().id
    assert point.lot_through == Lot.objects.order_by("-id").first().id
    assert point.lotuse_through == LotUse.objects.order_by("-id").first().id
    assert point.deep_entry_through == point.entry_through
    account = Account.objects.get(member=checkpointed[0].member)
    figures = CheckpointAccount.objects.get(account=account)
    assert (figures.total, figures.credited, figures.size) == (account.balance, account.balance + 30, 100)


def test_rows_recorded_since_the_start_of_yesterday_stay_out_of_the_checkpoint(card, store):
    points_earn(card=card, store=store, amount_yen=10_000, idempotency_key="e1")
    assert final_before() < timezone.now()

    verification = points_verify_ledger()

    assert verification.problems == [] and verification.moved
    assert (Checkpoint.objects.get().entry_through, CheckpointAccount.objects.count()) == (0, 0)
    # The next run reads the entry again, from the empty checkpoint, and finds it right.
    assert points_verify_ledger().since is not None and broken() == set()


def test_a_run_from_the_checkpoint_adds_what_came_after_and_moves_on(checkpointed, store):
    card = checkpointed[0]
    points_earn(card=card, store=store, amount_yen=2_000, idempotency_key="e3")
    before = Checkpoint.objects.get().entry_through

    verification = points_verify_ledger(deep=True, now=later())

    assert verification.problems == [] and verification.since.entry_through == before and verification.moved
    point = Checkpoint.objects.get()
    assert point.entry_through == Entry.objects.get(idempotency_key="e3").id > before
    account = Account.objects.get(member=card.member)
    assert CheckpointAccount.objects.get(account=account).total == account.balance
    assert broken(deep=True) == broken(full=True, deep=True) == set()


def test_a_balance_changed_after_the_checkpoint_is_found(checkpointed):
    Account.objects.filter(member=checkpointed[0].member).update(balance=71)

    assert {"balance_equals_entries", "balance_equals_lots"} <= broken()


def test_an_entry_slipped_in_past_the_services_is_found(checkpointed):
    account = Account.objects.get(member=checkpointed[1].member)
    Entry.objects.create(
        account=account, kind=Entry.Kind.SPEND, points=-5, idempotency_key="sly", occurred_at=timezone.now()
    )

    assert "balance_equals_entries" in broken()


def test_an_old_open_lot_whose_remainder_changed_is_found(checkpointed):
    Lot.objects.filter(account__member=checkpointed[0].member).update(remaining=75)

    assert {"lot_uses_match_lot", "balance_equals_lots"} <= broken()


def test_an_old_spent_lot_given_points_back_is_found(checkpointed):
    lot = Lot.objects.get(account__member=checkpointed[1].member)
    assert lot.remaining == 0
    Lot.objects.filter(pk=lot.pk).update(remaining=5)

    assert {"lot_uses_match_lot", "balance_equals_lots"} <= broken()


def test_a_use_added_to_an_old_spent_lot_is_found(checkpointed):
    lot = Lot.objects.get(account__member=checkpointed[1].member)
    LotUse.objects.create(entry=Entry.objects.get(idempotency_key="s2"), lot=lot, points=1)

    assert "lot_uses_match_lot" in broken()


def test_a_use_of_another_members_lot_added_after_the_checkpoint_is_found_by_the_deep_check(checkpointed):
    spend = Entry.objects.get(idempotency_key="s1")
    foreign = Lot.objects.get(account__member=checkpointed[1].member)
    LotUse.objects.create(entry=spend, lot=foreign, points=1)

    assert "entry_uses_own_lots" in broken(deep=True)


def test_a_lot_formed_after_the_checkpoint_for_an_old_entry_is_found_by_the_deep_check(checkpointed):
    earn = Entry.objects.get(idempotency_key="e1")
    Lot.objects.create(
        account=earn.account,
        entry=Entry.objects.get(idempotency_key="s1"),
        points=1,
        remaining=0,
        earned_at=earn.occurred_at,
        expires_on=timezone.localdate(),
    )

    assert "entry_forms_its_lots" in broken(deep=True)


def test_a_checkpointed_entry_changed_is_not_read_again_but_full_finds_it_and_keeps_the_checkpoint(checkpointed):
    point = Checkpoint.objects.get()
    figures = sorted(CheckpointAccount.objects.values_list("account_id", "total", "credited", "size"))
    bypass_append_only()
    Entry.objects.filter(idempotency_key="s1").update(points=-31)

    # The default run reads no entry up to the checkpoint: the change is invisible to it...
    assert broken() == set()
    # ...and a full run finds it, and leaves the checkpoint where the last passing run put it.
    full = points_verify_ledger(full=True, now=later(days=5))
    assert "balance_equals_entries" in {problem.rule.name for problem in full.problems} and not full.moved
    again = Checkpoint.objects.get()
    assert (again.entry_through, again.full_at) == (point.entry_through, point.full_at)
    assert sorted(CheckpointAccount.objects.values_list("account_id", "total", "credited", "size")) == figures


def test_a_failing_run_from_the_checkpoint_does_not_move_it(checkpointed, store):
    points_earn(card=checkpointed[0], store=store, amount_yen=2_000, idempotency_key="e3")
    Account.objects.filter(member=checkpointed[1].member).update(balance=3)
    before = Checkpoint.objects.get()

    verification = points_verify_ledger(now=later())

    assert verification.problems and not verification.moved
    assert Checkpoint.objects.get().entry_through == before.entry_through


def test_the_default_run_reads_the_entries_after_the_checkpoint_only(checkpointed):
    point = Checkpoint.objects.get()
    with CaptureQueriesContext(connection) as captured:
        points_verify_ledger(deep=True, now=later())
    reads = [query["sql"] for query in captured.captured_queries if "points_entry" in query["sql"]]
    sums = [sql for sql in reads if "SUM(points)" in sql and "GROUP BY account_id" in sql]
    assert sums and all(f"id > {point.entry_through}" in " ".join(sql.split()) for sql in sums)


def test_the_command_says_what_it_read(checkpointed):
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert f"after entry #{Checkpoint.objects.get().entry_through}" in out.getvalue()

    call_command("verify_ledger", "--full", stdout=out)
    assert "the whole ledger" in out.getvalue()
    Account.objects.filter(member=checkpointed[0].member).update(balance=1)
    with pytest.raises(CommandError, match="checkpoint stays"):
        call_command("verify_ledger", stdout=StringIO(), stderr=StringIO())


def test_the_nightly_task_verifies_deep_from_the_checkpoint_and_moves_it(checkpointed, store):
    points_earn(card=checkpointed[0], store=store, amount_yen=2_000, idempotency_key="e3")
    Checkpoint.objects.update(verified_at=timezone.now() - datetime.timedelta(days=1))
    before = Checkpoint.objects.get()

    assert tasks.verify_ledger().startswith("ledger OK")

    after = Checkpoint.objects.get()
    assert after.verified_at > before.verified_at and after.deep_entry_through >= before.deep_entry_through
    Account.objects.filter(member=checkpointed[1].member).update(balance=3)
    with pytest.raises(RuntimeError, match="balance_equals_entries"):
        tasks.verify_ledger()
    assert Checkpoint.objects.get().verified_at == after.verified_at
