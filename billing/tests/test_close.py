"""The month-end close: figures from the ledger, frozen statements, tie-out, reruns and crashes."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from billing.models import BillingAdjustment, Period, Statement, StatementFile, StatementLine, Tax
from billing.services import CloseError, period_close, period_reopen, period_send
from billing.tests.factories import after_period, earn, key, make_card, spend, this_period
from lifecycle.services import card_replace
from points.models import Entry, Funder
from points.services import points_adjust, points_expire_lapsed, points_void
from points.services.ledger import context, credit, expiry_date, lock_account, save_account

Kind = StatementLine.Kind


def close(settings, **kwargs):
    year, month = this_period(settings)
    return period_close(
        programme=settings.programme, year=year, month=month, now=after_period(settings, year, month), **kwargs
    )


def lines(statement):
    return {line.kind: line for line in statement.lines.all()}


def bonus(card, store, points, funder):
    """A campaign bonus as the campaigns app will post it: an entry of kind bonus with its funder."""
    programme = store.participation_set.get().programme
    with transaction.atomic():
        account = lock_account(member_id=card.member_id, programme=programme)
        ctx = context(card=card, store=store, reason="秋の感謝祭")
        entry = ctx.entry(account=account, kind=Entry.Kind.BONUS, points=points, key=key("bonus"), funder=funder)
        credit(
            account,
            entry,
            points,
            store=store,
            earned_at=ctx.occurred_at,
            expires_on=expiry_date(programme=programme, earned_at=ctx.occurred_at),
        )
        save_account(account)
    return entry


def test_a_store_is_charged_for_points_issued_and_paid_for_points_spent(billing_settings, store, card):
    earn(card, store, 150_000)  # 1,500 points at 1 point per 100 yen
    spend(card, store, 400)

    result = close(billing_settings)

    statement = Statement.objects.get(store=store)
    found = lines(statement)
    assert (found[Kind.POINTS_ISSUED].quantity, found[Kind.POINTS_ISSUED].amount_yen) == (1_500, 1_500)
    # Paid back at 0.95 yen a point: 380 yen to the store.
    assert (found[Kind.POINTS_SPENT].quantity, found[Kind.POINTS_SPENT].amount_yen) == (400, -380)
    assert {found[Kind.POINTS_ISSUED].tax, found[Kind.POINTS_SPENT].tax} == {Tax.NON_TAXABLE}
    # Fees: system 3,000 + one terminal 1,500 + two transactions at 5 yen = 4,510, tax 451.
    assert found[Kind.TERMINAL_RENTAL].amount_yen == 1_500
    assert found[Kind.TRANSACTION_FEE].amount_yen == 10
    assert (statement.taxable_amount_yen, statement.tax_yen) == (4_510, 451)
    assert statement.non_taxable_amount_yen == 1_120
    assert statement.net_amount_yen == 1_120 + 4_510 + 451
    assert statement.direction == Statement.Direction.STORE_PAYS
    assert result.tie_out["ties_out"] is True


def test_a_store_where_more_points_are_spent_than_issued_is_paid(billing_settings, store, other_store, card):
    earn(card, other_store, 1_000_000)
    spend(card, store, 9_000)

    close(billing_settings)

    statement = Statement.objects.get(store=store)
    assert statement.direction == Statement.Direction.STORE_IS_PAID
    # Paid 8,550 for the points; fees 3,000 + 1,500 + one transaction 5 = 4,505, tax 450.
    assert statement.net_amount_yen == -8_550 + 4_505 + 450


def test_voids_refunds_bonuses_expiry_and_transfers_tie_out(billing_settings, programme, store, other_store, staff):
    programme.expiry_months, programme.max_backdate_days = 1, 120
    programme.save()
    first, second = make_card(), make_card()
    bought = earn(first, store, 20_000).entries[0]
    earn(second, other_store, 50_000)
    spend(second, store, 300)
    points_void(entry=bought, idempotency_key=key("refund"), refund_amount_yen=5_000)  # 50 of 200 points back
    spent = spend(first, other_store, 100).entries[0]
    points_void(entry=spent, idempotency_key=key("void"))
    bonus(first, store, 30, Funder.STORE)
    bonus(second, other_store, 20, Funder.SECRETARIAT)
    points_adjust(member=second.member, programme=programme, points=7, reason="お詫び", staff=staff)
    old = timezone.now() - datetime.timedelta(days=70)
    from points.services import points_earn

    points_earn(card=first, store=store, amount_yen=10_000, idempotency_key=key("old"), occurred_at=old)
    points_expire_lapsed()
    card_replace(old_card=second, new_number="0123456789ABCDEF", new_card_type="transit_ic", staff=staff)

    result = close(billing_settings)

    tie = result.tie_out
    assert tie["ties_out"] is True
    assert tie["statement_points"] == tie["ledger_points_at_stores"]
    assert tie["outstanding_after"] - tie["outstanding_before"] == tie["ledger_movement"]
    assert tie["ledger_movement_by_kind"]["expire"] == -100
    at_store = lines(Statement.objects.get(store=store))
    assert at_store[Kind.VOID_ISSUED].quantity == 50
    assert at_store[Kind.BONUS_STORE].amount_yen == 30
    at_other = lines(Statement.objects.get(store=other_store))
    assert at_other[Kind.VOID_SPENT].amount_yen == 95  # 100 points back at 0.95
    # The secretariat's bonus is not billed to the store.
    assert Kind.BONUS_STORE not in at_other


def test_a_closed_period_is_frozen_and_a_second_close_changes_nothing(billing_settings, store, card):
    earn(card, store, 10_000)
    first = close(billing_settings)
    before = list(Statement.objects.values_list("number", "net_amount_yen", "file__sha256"))

    earn(card, store, 10_000)  # recorded now, after the close: it belongs to no closed statement
    second = close(billing_settings)

    assert (first.created, second.created, second.documents_rendered) == (True, False, 0)
    assert list(Statement.objects.values_list("number", "net_amount_yen", "file__sha256")) == before
    assert StatementLine.objects.count() == Statement.objects.get().lines.count()


def test_statement_numbers_are_consecutive_per_issuer_and_year(billing_settings, store, other_store, card):
    earn(card, store, 10_000)
    earn(card, other_store, 10_000)

    close(billing_settings)

    year = timezone.localdate(after_period(billing_settings, *this_period(billing_settings))).year
    assert sorted(Statement.objects.values_list("number", flat=True)) == [f"{year}-000001", f"{year}-000002"]


def test_a_close_that_dies_half_way_writes_nothing_and_can_run_again(billing_settings, store, card, monkeypatch):
    earn(card, store, 10_000)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(StatementLine.objects, "bulk_create", killed)
        with pytest.raises(KeyboardInterrupt):
            close(billing_settings)

    period = Period.objects.get()
    assert (period.status, Statement.objects.count(), StatementLine.objects.count()) == (Period.Status.OPEN, 0, 0)
    assert close(billing_settings).created is True
    assert Statement.objects.count() == 1


def test_a_close_that_dies_while_rendering_pdfs_renders_the_rest_next_time(
    billing_settings, store, other_store, card, monkeypatch
):
    from billing.services import documents

    earn(card, store, 10_000)
    earn(card, other_store, 10_000)
    real = documents.render_statement_pdf
    calls = []

    def dies_on_the_second(document):
        calls.append(document.number)
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        return real(document)

    monkeypatch.setattr(documents, "render_statement_pdf", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        close(billing_settings)
    assert (Period.objects.get().status, StatementFile.objects.count()) == (Period.Status.CLOSED, 1)

    monkeypatch.setattr(documents, "render_statement_pdf", real)
    again = close(billing_settings)

    assert (again.created, again.documents_rendered, StatementFile.objects.count()) == (False, 1, 2)


def test_a_close_that_does_not_tie_out_refuses_and_writes_nothing(
    billing_settings, store, other_store, card, monkeypatch
):
    from billing import selectors

    earn(card, store, 10_000)
    earn(card, other_store, 10_000)
    real = selectors.period_store_figures

    def loses_a_store(**kwargs):
        figures = real(**kwargs)
        figures.pop(other_store.pk)
        return figures

    monkeypatch.setattr(selectors, "period_store_figures", loses_a_store)

    with pytest.raises(CloseError, match="照合が一致しない"):
        close(billing_settings)

    assert (Period.objects.get().status, Statement.objects.count()) == (Period.Status.OPEN, 0)


def test_a_period_that_has_not_ended_cannot_be_closed(billing_settings, store):
    year, month = this_period(billing_settings)

    with pytest.raises(CloseError, match="まだ終了していません"):
        period_close(programme=billing_settings.programme, year=year, month=month)

    assert not Statement.objects.exists()


def test_an_adjustment_after_the_close_is_a_line_of_the_next_statement(billing_settings, store, card, staff):
    earn(card, store, 10_000)
    year, month = this_period(billing_settings)
    # Close the period before this one first (fees only), then correct it in this one.
    previous = (year, month - 1) if month > 1 else (year - 1, 12)
    period_close(
        programme=billing_settings.programme,
        year=previous[0],
        month=previous[1],
        now=after_period(billing_settings, *previous),
    )
    wrong = Statement.objects.get()
    BillingAdjustment.objects.create(
        store=store,
        amount_yen=-2_000,
        tax=Tax.TAXABLE_10,
        reason="10月分システム利用料の二重計上",
        corrects=wrong,
        created_by=staff,
    )

    close(billing_settings)

    statement = Statement.objects.exclude(pk=wrong.pk).get()
    adjustment = lines(statement)[Kind.ADJUSTMENT]
    assert (adjustment.amount_yen, adjustment.tax) == (-2_000, Tax.TAXABLE_10)
    assert "二重計上" in adjustment.description
    assert BillingAdjustment.objects.get().applied_in == statement
    wrong.refresh_from_db()
    assert wrong.lines.filter(kind=Kind.ADJUSTMENT).count() == 0


def test_reopening_before_sending_cancels_the_statements_and_keeps_their_numbers(billing_settings, store, card, staff):
    earn(card, store, 10_000)
    first = close(billing_settings)

    cancelled = period_reopen(period=first.period, staff=staff, reason="端末レンタル台数の誤り")
    again = close(billing_settings)

    assert cancelled == 1
    numbers = dict(Statement.objects.values_list("number", "status"))
    assert sorted(numbers.values()) == [Statement.Status.CANCELLED, Statement.Status.ISSUED]
    assert len(numbers) == 2 and again.created


def test_reopening_after_the_documents_were_sent_is_refused(billing_settings, store, card, staff, mailoutbox):
    store.merchant.email = "tenpo@example.jp"
    store.merchant.save()
    earn(card, store, 10_000)
    result = close(billing_settings)

    with django_capture_on_commit():
        period_send(period=result.period, staff=staff)

    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["tenpo@example.jp"]
    with pytest.raises(CloseError, match="送付済み"):
        period_reopen(period=result.period, staff=staff, reason="間違い")


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_close_period_command_prints_the_tie_out(billing_settings, store, card, capsys, monkeypatch):
    earn(card, store, 10_000)
    year, month = this_period(billing_settings)
    monkeypatch.setattr(timezone, "now", lambda: after_period(billing_settings, year, month))

    call_command("close_period", f"{year}-{month:02d}")

    out = capsys.readouterr().out
    assert "1 statements" in out and "ties out" in out


def test_close_period_command_fails_for_a_period_not_ended(billing_settings, store):
    year, month = this_period(billing_settings)

    with pytest.raises(CommandError, match="まだ終了していません"):
        call_command("close_period", f"{year}-{month:02d}")


def test_close_period_command_refuses_a_malformed_period(billing_settings):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("close_period", "2026/10")


def test_the_nightly_close_is_scheduled_by_a_migration(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="close-billing-periods")

    assert (schedule.func, schedule.schedule_type, schedule.repeats) == ("billing.tasks.close_due_periods", "D", -1)
    assert timezone.localtime(schedule.next_run).strftime("%H:%M") == "00:30"


def test_the_nightly_task_closes_last_period_once_it_has_ended(billing_settings, store, card, monkeypatch):
    from billing.tasks import close_due_periods

    earn(card, store, 10_000)
    year, month = this_period(billing_settings)
    monkeypatch.setattr(timezone, "now", lambda: after_period(billing_settings, year, month))

    report = close_due_periods()

    assert f"{year}-{month:02d}: 1 statements" in report
    assert close_due_periods() == "nothing to close"


def test_points_sold_at_the_store_are_a_line_of_their_own_apart_from_the_free_points(billing_settings, store, card):
    from points.models import Account
    from points.services import points_post_sale

    programme = billing_settings.programme
    programme.sells_points = True
    programme.save()
    earn(card, store, 150_000)
    with transaction.atomic():
        account = lock_account(member_id=card.member_id, programme=programme)
        points_post_sale(
            card=card, account=account, programme=programme, amount_yen=5_000, idempotency_key=key("sale"), store=store
        )

    result = close(billing_settings)

    found = lines(Statement.objects.get(store=store))
    # the free points issued as before, and the sale apart: 5,000 yen the store took for the programme
    assert (found[Kind.POINTS_ISSUED].quantity, found[Kind.POINTS_ISSUED].amount_yen) == (1_500, 1_500)
    sold = found[Kind.POINTS_SOLD]
    assert (sold.description, sold.quantity, sold.unit_price, sold.amount_yen, sold.tax) == (
        "ポイント販売（前払式支払手段）お預り金",
        5_000,
        "1.00円",
        5_000,
        Tax.NON_TAXABLE,
    )
    assert result.tie_out["ties_out"] is True
    assert Account.objects.get(member=card.member).balance == 6_500
