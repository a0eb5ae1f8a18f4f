"""What a merchant reads in the portal: its stores' running figures and terminals, and its sent statements."""

import datetime

import pytest
from django.utils import formats, timezone, translation

from billing.models import Statement
from billing.periods import period_bounds, period_containing, period_dates
from billing.services import period_close, statement_settle
from billing.tests.factories import after_period, earn, make_staff, spend, this_period
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from portal.tests.conftest import close_and_send, make_merchant_user
from portal.tests.helpers import text_of
from stores.tests.factories import TerminalFactory

pytestmark = pytest.mark.django_db


def test_dashboard_shows_this_periods_running_totals_from_the_ledger(portal_client, store, other_store, card):
    # Given purchases at the merchant's store and at another merchant's
    earn(card, store, 150_000)  # 1,500 points
    earn(card, store, 2_500)  # 25 points
    spend(card, store, 400)
    earn(card, other_store, 990_000)

    # When
    shown = text_of(portal_client.get("/portal/"), f"store-{store.pk}")

    # Then
    assert "1,525" in shown
    assert "400" in shown
    assert " 3 " in f" {shown} "
    assert "9,900" not in shown


def test_dashboard_lists_only_the_merchants_stores_with_their_terminals(portal_client, store, other_store):
    # Given a terminal heard from ten minutes ago, one never heard from, and one revoked
    terminal = store.terminals.get()
    terminal.last_seen_at = timezone.now() - datetime.timedelta(minutes=10)
    terminal.save()
    TerminalFactory(store=store, name="新レジ")
    TerminalFactory(store=store, name="旧レジ", status="revoked")

    # When
    response = portal_client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()

    # Then
    shown = text_of(response, f"store-{store.pk}")
    with translation.override("en"):
        last_seen = formats.date_format(timezone.localtime(terminal.last_seen_at), "SHORT_DATETIME_FORMAT")
    assert text_of(response, f"terminal-{terminal.code}") == f"{terminal.code} レジ1号機 {last_seen}"
    assert "新レジ Never Not heard from lately" in shown
    assert "旧レジ" not in shown
    assert other_store.name not in page
    assert "さくらレジ" not in page


def test_a_programme_without_billing_settings_counts_the_calendar_month(client, merchant):
    # Given a store in a programme that does not bill yet
    programme = ProgrammeFactory(code="NOBILL")
    store = join(StoreFactory(merchant=merchant, name="むすびや"), programme)
    card = make_card()
    earn(card, store, 30_000)
    client.force_login(make_merchant_user(merchant, username="musubi"))
    today = timezone.localdate()

    # When
    shown = text_of(client.get("/portal/"), f"store-{store.pk}")

    # Then
    assert "300" in shown
    assert today.replace(day=1).strftime("%Y/%m/%d") in shown


def test_running_totals_follow_the_programmes_closing_day(portal_client, billing_settings, store, card):
    # Given a programme closing on the 20th
    billing_settings.closing_day = 20
    billing_settings.save()
    earn(card, store, 10_000)
    year, month = period_containing(timezone.localdate(), closing_day=20)
    first, after = period_dates(year=year, month=month, closing_day=20)

    # When
    shown = text_of(portal_client.get("/portal/"), f"store-{store.pk}")

    # Then
    last = after - datetime.timedelta(days=1)
    assert f"{first:%Y/%m/%d}～{last:%Y/%m/%d}" in shown
    assert first.day == 21


def test_store_page_shows_each_day_of_the_period_so_far(portal_client, billing_settings, store, card):
    # Given
    earn(card, store, 150_000)
    spend(card, store, 400)
    today = timezone.localdate()
    year, month = this_period(billing_settings)
    starts_at, _ends_at = period_bounds(year=year, month=month, closing_day=billing_settings.closing_day)

    # When
    response = portal_client.get(f"/portal/stores/{store.pk}/")

    # Then today's row has the purchases, every earlier day of the period is listed with nothing
    assert text_of(response, f"day-{today:%Y-%m-%d}").split()[-3:] == ["1,500", "400", "2"]
    first = timezone.localdate(starts_at)
    assert text_of(response, f"day-{first:%Y-%m-%d}").split()[-3:] == (
        ["1,500", "400", "2"] if first == today else ["0", "0", "0"]
    )
    assert text_of(response, "days").count("(") == (today - first).days + 1
    assert store.terminals.get().code in response.content.decode()


def test_store_page_of_a_store_without_programme_says_so(portal_client, merchant):
    # Given
    store = StoreFactory(merchant=merchant, name="準備中の店")

    # When
    response = portal_client.get(f"/portal/stores/{store.pk}/")

    # Then
    assert response.status_code == 200
    assert "準備中の店" in response.content.decode()
    assert 'id="days"' not in response.content.decode()


# --- statements ---------------------------------------------------------------------------------


@pytest.fixture
def sent_statement(billing_settings, store, other_store, card):
    earn(card, store, 150_000)
    earn(card, other_store, 50_000)
    period = close_and_send(billing_settings, *this_period(billing_settings))
    return Statement.objects.get(period=period, store=store)


def test_statements_list_shows_the_merchants_sent_statements(portal_client, sent_statement, other_store):
    # When
    response = portal_client.get("/portal/statements/")

    # Then
    row = text_of(response, f"statement-{sent_statement.pk}")
    assert sent_statement.period.label in row
    assert sent_statement.store.name in row
    assert sent_statement.number in row
    assert f"{sent_statement.amount_yen:,}" in row
    assert sent_statement.due_on.strftime("%Y/%m/%d") in row
    assert other_store.name not in response.content.decode()
    assert Statement.objects.get(store=other_store).number not in response.content.decode()


def test_statements_list_leaves_out_issued_and_cancelled_statements(portal_client, billing_settings, store, card):
    # Given one period closed but not sent, and a sent statement later cancelled by hand
    earn(card, store, 10_000)
    year, month = this_period(billing_settings)
    result = period_close(
        programme=billing_settings.programme, year=year, month=month, now=after_period(billing_settings, year, month)
    )
    issued = Statement.objects.get(period=result.period, store=store)
    cancelled = Statement.objects.create(
        **{
            field.name: getattr(issued, field.name)
            for field in Statement._meta.concrete_fields
            if field.name not in ("id", "number", "status", "created_at")
        },
        number="1999-000001",
        status=Statement.Status.CANCELLED,
    )

    # When
    page = portal_client.get("/portal/statements/").content.decode()

    # Then
    assert issued.number not in page
    assert cancelled.number not in page
    assert f"statement-{issued.pk}" not in page


def test_statements_are_listed_newest_period_first(portal_client, billing_settings, store, card):
    # Given last period and this one, both sent
    year, month = this_period(billing_settings)
    previous = (year, month - 1) if month > 1 else (year - 1, 12)
    older = close_and_send(billing_settings, *previous)
    earn(card, store, 10_000)
    newer = close_and_send(billing_settings, year, month)

    # When
    page = portal_client.get("/portal/statements/").content.decode()

    # Then
    first = Statement.objects.get(period=newer, store=store)
    second = Statement.objects.get(period=older, store=store)
    assert page.index(f"statement-{first.pk}") < page.index(f"statement-{second.pk}")


def test_statement_direction_reads_as_invoice_or_payment(portal_client, sent_statement, settings):
    # Given the store owes this month; in English the words are the msgids
    assert sent_statement.direction == Statement.Direction.STORE_PAYS

    # When
    row = text_of(portal_client.get("/portal/statements/", HTTP_ACCEPT_LANGUAGE="en"), f"statement-{sent_statement.pk}")

    # Then
    assert "Invoice (you pay)" in row
    assert "Not yet" in row


def test_a_settled_statement_shows_when(portal_client, sent_statement):
    # Given
    statement_settle(statement=sent_statement, on=datetime.date(2026, 12, 25), staff=make_staff())

    # When
    row = text_of(portal_client.get("/portal/statements/", HTTP_ACCEPT_LANGUAGE="en"), f"statement-{sent_statement.pk}")

    # Then
    assert "Yes, 2026/12/25" in row


def test_statements_are_paged_oldest_on_the_last_page(portal_client, billing_settings, store, card, monkeypatch):
    # Given two sent periods and one statement a page
    monkeypatch.setattr("portal.views.STATEMENTS_PER_PAGE", 1)
    year, month = this_period(billing_settings)
    older = close_and_send(billing_settings, *((year, month - 1) if month > 1 else (year - 1, 12)))
    close_and_send(billing_settings, year, month)

    # When
    first, second = (portal_client.get("/portal/statements/", {"page": n}).content.decode() for n in (1, 2))

    # Then
    oldest = Statement.objects.get(period=older, store=store)
    assert f"statement-{oldest.pk}" not in first
    assert f"statement-{oldest.pk}" in second
