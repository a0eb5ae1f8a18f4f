"""Each rule of verify_ledger fires on the corruption it names (on SQLite, where no trigger stops the damage)."""

import datetime
import uuid

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from members.models import Member
from points.models import Account, Entry, Lot, LotUse
from points.services.imports import points_import_opening, points_import_reverse
from points.tests.factories import trigger_disabled
from points.verification import ledger_problems

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lots_unguarded():
    """On PostgreSQL, let the tests change what a lot is, as only someone bypassing its trigger could."""
    trigger_disabled("points_lot", "points_lot_refuse_column_change")


def broken_rules(deep=False):
    return {problem.rule.name for problem in ledger_problems(deep=deep)}


def test_a_consistent_ledger_breaks_no_rule(ledger):
    assert broken_rules(deep=True) == set()


def test_cached_balance_out_of_step_with_entries_and_lots(ledger):
    Account.objects.filter(member=ledger[0].member).update(balance=71)

    assert {"balance_equals_entries", "balance_equals_lots"} <= broken_rules()


def test_lot_remainder_that_does_not_match_its_uses(ledger):
    Lot.objects.filter(account__member=ledger[0].member).update(remaining=75)

    assert {"lot_uses_match_lot", "balance_equals_lots"} <= broken_rules()


def test_an_entry_in_an_account_with_no_balance_row(ledger):
    account = Account.objects.get(member=ledger[1].member)
    # Foreign keys are checked at commit; the row is put back before the test ends.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM points_account WHERE id = %s", [account.pk])

    broken = broken_rules()

    Account.objects.bulk_create([account])
    assert "account_exists" in broken


def test_lot_used_by_an_entry_of_another_account_is_found_by_the_deep_check(ledger):
    spend = Entry.objects.get(kind=Entry.Kind.SPEND)
    foreign = Lot.objects.get(account__member=ledger[1].member)
    own_use = LotUse.objects.get(entry=spend)
    # Move the use to the other member's lot, keeping every per-account and per-lot sum plausible.
    LotUse.objects.create(entry=spend, lot=foreign, points=1)

    assert "entry_uses_own_lots" not in broken_rules()
    assert "entry_uses_own_lots" in broken_rules(deep=True)
    assert own_use.points == 30


def test_lot_formed_for_the_wrong_entry_is_found_by_the_deep_check(ledger):
    earn = Entry.objects.get(idempotency_key="e1")
    Lot.objects.filter(entry=earn).update(entry=Entry.objects.get(kind=Entry.Kind.SPEND))

    assert "entry_forms_its_lots" in broken_rules(deep=True)


def test_lot_larger_than_the_points_its_entries_brought_in(ledger):
    Lot.objects.filter(account__member=ledger[1].member).update(points=F("points") + 5, remaining=F("remaining") + 5)

    assert {"credits_form_lots", "balance_equals_lots"} <= broken_rules()


def test_an_earned_lot_passed_off_as_purchased_or_company_only_is_found_by_the_deep_check(ledger):
    earn = Entry.objects.get(idempotency_key="e1")
    assert "lot_kind_from_its_entry" not in broken_rules(deep=True)

    Lot.objects.filter(entry=earn).update(purchased=True)
    assert "lot_kind_from_its_entry" in broken_rules(deep=True)

    Lot.objects.filter(entry=earn).update(purchased=False, merchant=earn.store.merchant)
    assert "lot_kind_from_its_entry" in broken_rules(deep=True)


# --- opening balances brought over from an old system (kind `import`) ------------------------------------


@pytest.fixture
def imported(store, programme):
    """Two opening balances as points.services.imports writes them, one of them rolled back."""
    earned = timezone.now() - datetime.timedelta(days=30)
    expires = timezone.localdate() + datetime.timedelta(days=300)
    kept, undone = uuid.uuid4(), uuid.uuid4()
    new = [Member.objects.create(), Member.objects.create()]
    with transaction.atomic():
        points_import_opening(
            programme=programme,
            member_ids=[new[0].pk],
            lots=[(new[0].pk, None, store.pk, 120, earned, expires, "legacy:t:1")],
            operation=kept,
            reason="旧システムから移行",
        )
        points_import_opening(
            programme=programme,
            member_ids=[new[1].pk],
            lots=[(new[1].pk, None, None, 80, earned, expires, "legacy:t:2")],
            operation=undone,
            reason="旧システムから移行",
        )
        points_import_reverse(operation=undone, undo_operation=uuid.uuid4(), staff=None, reason="取消")


def test_opening_balances_and_their_rollback_break_no_rule(imported):
    assert broken_rules(deep=True) == set()


def test_an_opening_balance_that_formed_a_lot_of_another_size(imported):
    opening = Entry.objects.get(kind=Entry.Kind.IMPORT, idempotency_key="legacy:t:1")
    Lot.objects.filter(entry=opening).update(points=F("points") - 1, remaining=F("remaining") - 1)

    assert "import_forms_one_lot" in broken_rules()


def test_an_opening_balance_whose_lot_lost_its_issuing_store(imported):
    opening = Entry.objects.get(kind=Entry.Kind.IMPORT, idempotency_key="legacy:t:1")
    Lot.objects.filter(entry=opening).update(store=None)

    assert broken_rules() == {"import_forms_one_lot"}


def test_a_rollback_that_took_another_lot_than_its_own(imported):
    reversal = Entry.objects.get(kind=Entry.Kind.IMPORT, points__lt=0)
    LotUse.objects.create(entry=reversal, lot=Lot.objects.get(entry__idempotency_key="legacy:t:1"), points=1)

    assert "import_rollback_takes_its_lot" in broken_rules()


def test_an_opening_balance_rolled_back_twice(imported):
    reversal = Entry.objects.get(kind=Entry.Kind.IMPORT, points__lt=0)
    twice = Entry.objects.create(
        account=reversal.account,
        kind=Entry.Kind.IMPORT,
        points=reversal.points,
        idempotency_key="undo-again",
        reverses=reversal.reverses,
        occurred_at=reversal.occurred_at,
    )
    LotUse.objects.create(entry=twice, lot=Lot.objects.get(entry=reversal.reverses), points=-reversal.points)

    assert "import_reversed_once" in broken_rules()
