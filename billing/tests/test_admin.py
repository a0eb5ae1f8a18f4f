"""The billing back office: settings, the close and its progress, send and reopen, the statement search
screen with its documents and settlement actions, and adjustments. Everything the admin does goes
through services; an auditor sees it all and changes nothing."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django_q.conf import Conf
from django_q.models import OrmQ, Task

from audit.models import AuditEvent
from billing.admin.forms import last_ended_period
from billing.models import BillingAdjustment, BillingSettings, Period, Statement, StoreBillingTerms, Tax
from billing.services import period_close, period_get_or_create, period_send, statement_settle
from billing.services.adjustments import billing_adjustment_create
from billing.tests.factories import after_period, earn, spend, this_period
from loyalty.roles import AUDITOR, SECRETARIAT
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PERIODS = reverse("admin:billing_period_changelist")
STATEMENTS = reverse("admin:billing_statement_changelist")
ADJUSTMENTS = reverse("admin:billing_billingadjustment_changelist")


@pytest.fixture
def secretariat(db):
    return StaffFactory(username="jimukyoku", role=SECRETARIAT)


@pytest.fixture
def secretariat_client(client, secretariat):
    client.force_login(secretariat)
    return client


@pytest.fixture
def auditor_client(client, db):
    client.force_login(StaffFactory(username="kansa", role=AUDITOR))
    return client


def shown(message: str, *args, **values) -> str:
    """A message in the language the admin speaks to a user who asked for none."""
    with translation.override(django_settings.LANGUAGE_CODE):
        text = ngettext(message, args[0], args[1]) if args else gettext(message)
        return text % values if values else text


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def close_now(billing_settings) -> Period:
    """Close the period holding the entries made in the test (as if run after it ended)."""
    year, month = this_period(billing_settings)
    now = after_period(billing_settings, year, month)
    return period_close(programme=billing_settings.programme, year=year, month=month, now=now).period


@pytest.fixture
def closed(billing_settings, store, other_store, card):
    """A closed period: `store` is paid (more spent there than issued), `other_store` pays."""
    earn(card, other_store, 1_000_000)  # 10,000 points issued at other_store
    spend(card, store, 9_000)  # paid back at 0.95: 8,550 yen to store
    return close_now(billing_settings)


def statement_of(store) -> Statement:
    return Statement.objects.exclude(status=Statement.Status.CANCELLED).get(store=store)


def run_action(client, action, *statements):
    return client.post(STATEMENTS, {"action": action, "_selected_action": [s.pk for s in statements]})


# --- changelists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/admin/billing/billingsettings/", "?q=TEST&close_automatically__exact=1"),
        ("/admin/billing/storebillingterms/", "?q=S&own=fees&store__status__exact=active"),
        (PERIODS, "?q=TEST&status__exact=closed"),
        (STATEMENTS, "?q=株式会社&settlement=open&direction__exact=store_pays&status__exact=issued"),
        (STATEMENTS, "?settlement=overdue&amount_min=1&amount_max=99999"),
        (ADJUSTMENTS, "?q=S&applied=no&tax__exact=non_taxable"),
    ],
)
def test_each_changelist_loads_with_filters_and_search(secretariat_client, closed, url, query):
    response = secretariat_client.get(url + query)

    assert response.status_code == 200
    assert "?e=1" not in response.get("Location", "")


def test_statement_search_finds_by_number_and_counterparty(secretariat_client, closed, store, other_store):
    paid, pays = statement_of(store), statement_of(other_store)

    by_number = secretariat_client.get(STATEMENTS, {"q": pays.number}).content.decode()
    by_name = secretariat_client.get(STATEMENTS, {"q": paid.recipient_name}).content.decode()

    assert pays.number in by_number and paid.number not in by_number
    assert paid.number in by_name and pays.number not in by_name


def test_statement_list_filters_by_issued_date(secretariat_client, closed, store):
    issued = statement_of(store).issued_on
    day_before = issued - datetime.timedelta(days=1)

    same_day = secretariat_client.get(
        STATEMENTS, {"issued_on__year": issued.year, "issued_on__month": issued.month, "issued_on__day": issued.day}
    )
    other_day = secretariat_client.get(
        STATEMENTS,
        {"issued_on__year": day_before.year, "issued_on__month": day_before.month, "issued_on__day": day_before.day},
    )

    assert statement_of(store).number in same_day.content.decode()
    assert statement_of(store).number not in other_day.content.decode()


# --- settings ------------------------------------------------------------------------------


def test_settings_page_groups_the_secretariats_bank_account(secretariat_client, billing_settings):
    response = secretariat_client.get(reverse("admin:billing_billingsettings_change", args=[billing_settings.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="consignor_code"' in page and 'name="issue_price_bp"' in page
    assert shown("The secretariat's bank account (for the Zengin transfer file)") in page.replace("&#x27;", "'")


def test_store_terms_are_added_with_only_the_prices_that_differ(secretariat_client, store):
    response = secretariat_client.post(
        reverse("admin:billing_storebillingterms_add"),
        {"store": store.pk, "note": "開店記念", "system_fee_yen": "0", "issue_price_bp": ""},
    )

    assert response.status_code == 302
    terms = StoreBillingTerms.objects.get(store=store)
    assert (terms.system_fee_yen, terms.issue_price_bp) == (0, None)
    assert AuditEvent.objects.filter(object_type="billing.StoreBillingTerms", action=AuditEvent.Action.ADD).exists()


# --- the close -----------------------------------------------------------------------------


def last_period(billing_settings) -> str:
    year, month = last_ended_period(billing_settings, now=timezone.now())
    return f"{year}-{month:02d}"


def test_close_form_offers_the_last_ended_period(secretariat_client, billing_settings):
    response = secretariat_client.get(reverse("admin:billing_period_close"))

    assert response.status_code == 200
    assert f'value="{last_period(billing_settings)}"' in response.content.decode()


def test_close_view_queues_the_close_for_the_worker(secretariat_client, secretariat, billing_settings, store):
    period = last_period(billing_settings)

    response = secretariat_client.post(
        reverse("admin:billing_period_close"), {"programme": billing_settings.programme.pk, "period": period}
    )

    queued = OrmQ.objects.get()
    year, month = (int(part) for part in period.split("-"))
    assert queued.func() == "billing.tasks.close_period"
    assert queued.task["args"] == (billing_settings.programme.pk, year, month, secretariat.pk)
    found = Period.objects.get(programme=billing_settings.programme, year=year, month=month)
    assert found.status == Period.Status.OPEN
    assert response["Location"] == reverse("admin:billing_period_change", args=[found.pk]) + f"?task={queued.task_id()}"


def test_queued_close_page_says_it_waits_and_reloads(secretariat_client, billing_settings, store):
    response = secretariat_client.post(
        reverse("admin:billing_period_close"),
        {"programme": billing_settings.programme.pk, "period": last_period(billing_settings)},
        follow=True,
    )

    page = response.content.decode()
    assert 'http-equiv="refresh"' in page
    assert shown("The close is queued and waits for the worker; this page reloads itself.") in page


def test_close_view_in_sync_mode_closes_the_period(
    secretariat_client, billing_settings, store, other_store, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)

    response = secretariat_client.post(
        reverse("admin:billing_period_close"),
        {"programme": billing_settings.programme.pk, "period": last_period(billing_settings)},
        follow=True,
    )

    period = Period.objects.get(programme=billing_settings.programme)
    assert period.status == Period.Status.CLOSED
    # No activity in a past month: the fees alone (system fee 3,000 yen + 10 % tax) for each store.
    assert sorted(period.statements.values_list("net_amount_yen", flat=True)) == [3_300, 3_300]
    page = response.content.decode()
    assert 'id="tie-out"' in page and 'http-equiv="refresh"' not in page
    assert shown("%(count)d statement", "%(count)d statements", 2, count=2) in page


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "Enter the period as YYYY-MM, for example 2026-10."),
        ("next", "Enter the period as YYYY-MM, for example 2026-10."),
    ],
)
def test_close_view_refuses_what_is_not_a_period(secretariat_client, billing_settings, period, message):
    response = secretariat_client.post(
        reverse("admin:billing_period_close"), {"programme": billing_settings.programme.pk, "period": period}
    )

    assert response.status_code == 200
    assert shown(message) in response.content.decode()
    assert not OrmQ.objects.exists()


def test_close_view_refuses_a_period_that_has_not_ended(secretariat_client, billing_settings):
    year, month = this_period(billing_settings)

    response = secretariat_client.post(
        reverse("admin:billing_period_close"),
        {"programme": billing_settings.programme.pk, "period": f"{year}-{month:02d}"},
    )

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not OrmQ.objects.exists() and not Period.objects.exists()


def test_close_view_refuses_a_closed_period(secretariat_client, billing_settings, store):
    year, month = last_ended_period(billing_settings, now=timezone.now())
    period_close(programme=billing_settings.programme, year=year, month=month)

    response = secretariat_client.post(
        reverse("admin:billing_period_close"),
        {"programme": billing_settings.programme.pk, "period": f"{year}-{month:02d}"},
    )

    assert shown("This period is already closed.") in response.content.decode()
    assert not OrmQ.objects.exists()


def test_close_form_offers_the_period_after_the_last_closed(secretariat_client, billing_settings, store):
    # given the last ended period, and the one before it, closed
    year, month = last_ended_period(billing_settings, now=timezone.now())
    before = (year, month - 1) if month > 1 else (year - 1, 12)
    period_close(programme=billing_settings.programme, year=before[0], month=before[1])
    period_close(programme=billing_settings.programme, year=year, month=month)
    # when
    page = secretariat_client.get(reverse("admin:billing_period_close")).content.decode()
    # then the form offers the next period, not one already closed
    after = (year, month + 1) if month < 12 else (year + 1, 1)
    assert f'value="{after[0]}-{after[1]:02d}"' in page
    assert f'value="{year}-{month:02d}"' not in page


def test_period_page_says_the_close_is_done_once_the_pdfs_are_made(secretariat_client, billing_settings, store):
    # given a close that has made its statements' PDFs
    year, month = last_ended_period(billing_settings, now=timezone.now())
    result = period_close(programme=billing_settings.programme, year=year, month=month)
    # when
    page = secretariat_client.get(reverse("admin:billing_period_change", args=[result.period.pk])).content.decode()
    # then
    assert shown("Rendering the PDFs") not in page
    assert shown("Close finished: %(count)s statements, each with its PDF") % {"count": result.statements} in page
    assert 'http-equiv="refresh"' not in page


def test_period_page_shows_the_progress_of_a_running_close(secretariat_client, billing_settings):
    year, month = last_ended_period(billing_settings, now=timezone.now())
    period = Period.objects.create(
        programme=billing_settings.programme,
        year=year,
        month=month,
        starts_at=timezone.now() - datetime.timedelta(days=40),
        ends_at=timezone.now() - datetime.timedelta(days=10),
        status=Period.Status.CLOSING,
        progress={"phase": "documents", "done": 40, "total": 170, "at": timezone.now().isoformat()},
    )

    page = secretariat_client.get(reverse("admin:billing_period_change", args=[period.pk])).content.decode()

    assert shown("Rendering the PDFs") + " 40 / 170" in page
    assert 'http-equiv="refresh"' in page


def test_period_page_shows_why_a_queued_close_failed(secretariat_client, billing_settings):
    year, month = last_ended_period(billing_settings, now=timezone.now())
    period = period_get_or_create(programme=billing_settings.programme, year=year, month=month)
    Task.objects.create(
        id="0" * 32,
        name="close",
        func="billing.tasks.close_period",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
        result="The programme has no billing settings. : Traceback (most recent call last): ...",
    )

    page = secretariat_client.get(
        reverse("admin:billing_period_change", args=[period.pk]) + "?task=" + "0" * 32
    ).content.decode()

    assert 'id="close-failure"' in page and "The programme has no billing settings." in page
    assert "Traceback" not in page and 'http-equiv="refresh"' not in page


def test_period_page_shows_the_tie_out(secretariat_client, closed):
    page = secretariat_client.get(reverse("admin:billing_period_change", args=[closed.pk])).content.decode()

    table = page[page.index('id="tie-out"') :]
    # 10,000 points earned and 9,000 spent, on the statements and in the ledger alike.
    assert table.count("<td>10,000</td>") == 2 and table.count("<td>-9,000</td>") == 2
    assert 'id="ties-out">' + shown("Yes") in table


# --- send and reopen -----------------------------------------------------------------------


def test_send_publishes_the_statements_and_mails_the_merchants(
    secretariat_client, closed, store, other_store, django_capture_on_commit_callbacks
):
    for merchant in (store.merchant, other_store.merchant):
        merchant.email = f"{merchant.code}@example.jp"
        merchant.save()
    url = reverse("admin:billing_period_send", args=[closed.pk])

    confirm = secretariat_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(url, follow=True)

    assert confirm.status_code == 200
    assert set(closed.statements.values_list("status", flat=True)) == {Statement.Status.SENT}
    assert len(mail.outbox) == 2
    assert messages_of(response) == [
        shown(
            "%(count)d statement was published in the merchant portal and its merchant notified.",
            "%(count)d statements were published in the merchant portal and their merchants notified.",
            2,
            count=2,
        )
    ]


def test_reopen_cancels_the_statements_with_a_reason(secretariat_client, closed):
    response = secretariat_client.post(
        reverse("admin:billing_period_reopen", args=[closed.pk]), {"reason": "単価の設定誤り"}, follow=True
    )

    closed.refresh_from_db()
    assert closed.status == Period.Status.OPEN
    assert set(closed.statements.values_list("status", flat=True)) == {Statement.Status.CANCELLED}
    assert AuditEvent.objects.get(summary="Reopened the billing period").detail["reason"] == "単価の設定誤り"
    assert len(messages_of(response)) == 1


def test_reopen_needs_a_reason(secretariat_client, closed):
    response = secretariat_client.post(reverse("admin:billing_period_reopen", args=[closed.pk]), {"reason": " "})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    closed.refresh_from_db()
    assert closed.status == Period.Status.CLOSED


def test_reopen_is_refused_once_the_documents_were_sent(secretariat_client, secretariat, closed):
    period_send(period=closed, staff=secretariat)

    page = secretariat_client.get(reverse("admin:billing_period_change", args=[closed.pk])).content.decode()
    response = secretariat_client.post(
        reverse("admin:billing_period_reopen", args=[closed.pk]), {"reason": "誤り"}, follow=True
    )

    assert 'id="reopen-period"' not in page
    closed.refresh_from_db()
    assert closed.status == Period.Status.CLOSED
    assert messages_of(response) == [
        shown(
            "Documents of this period were already sent to merchants; correct it with an "
            "adjustment in the next period instead."
        )
    ]


# --- statements: documents -----------------------------------------------------------------


def test_statement_page_shows_lines_parties_days_and_documents(secretariat_client, closed, store):
    statement = statement_of(store)

    page = secretariat_client.get(reverse("admin:billing_statement_change", args=[statement.pk])).content.decode()

    assert "ポイント利用（お支払い）" in page and "-8550" in page.replace(",", "")
    assert 'id="statement-parties"' in page and statement.recipient_name in page
    assert 'id="statement-days"' in page
    assert reverse("admin:billing_statement_pdf", args=[statement.pk]) in page
    assert reverse("admin:billing_statement_csv", args=[statement.pk, "cp932"]) in page


def test_pdf_is_served_through_the_admin(secretariat_client, closed, store):
    statement = statement_of(store)

    response = secretariat_client.get(reverse("admin:billing_statement_pdf", args=[statement.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert statement.number in response["Content-Disposition"]


def test_pdf_is_refused_to_staff_without_view_permission_on_statements(client, closed, store):
    client.force_login(StaffFactory(username="unei", role="operator"))

    response = client.get(reverse("admin:billing_statement_pdf", args=[statement_of(store).pk]))

    assert response.status_code == 403


@pytest.mark.parametrize(("encoding", "codec"), [("utf-8", "utf-8-sig"), ("cp932", "cp932")])
def test_csv_is_served_in_utf8_with_bom_or_shift_jis(secretariat_client, closed, store, encoding, codec):
    statement = statement_of(store)

    response = secretariat_client.get(reverse("admin:billing_statement_csv", args=[statement.pk, encoding]))

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8")
    assert statement.number in response.content.decode(codec)
    assert response["Content-Disposition"].endswith('.csv"')


# --- statements: amount filter -------------------------------------------------------------


def amounts_listed(client, **query) -> set[str]:
    page = client.get(STATEMENTS, query).content.decode()
    return {s.number for s in Statement.objects.all() if f">{s.number}<" in page}


def test_amount_filter_matches_the_amount_either_way(secretariat_client, closed, store, other_store):
    paid, pays = statement_of(store), statement_of(other_store)
    assert paid.net_amount_yen < 0 < pays.net_amount_yen
    low, high = paid.amount_yen, pays.amount_yen  # 3,595 paid out, 13,305 to pay
    assert low < high

    assert amounts_listed(secretariat_client, amount_min=high) == {pays.number}
    assert amounts_listed(secretariat_client, amount_max=low) == {paid.number}
    assert amounts_listed(secretariat_client, amount_min=low, amount_max=high) == {paid.number, pays.number}
    assert amounts_listed(secretariat_client, amount_min=high + 1) == set()


def test_amount_filter_with_bounds_the_wrong_way_round_says_so_and_lists_all(secretariat_client, closed):
    response = secretariat_client.get(STATEMENTS, {"amount_min": 5_000, "amount_max": 10})

    assert response.status_code == 200
    assert shown("The lower amount is above the upper one.") in response.content.decode()
    assert amounts_listed(secretariat_client, amount_min=5_000, amount_max=10) == set(
        Statement.objects.values_list("number", flat=True)
    )


# --- statements: settlement ----------------------------------------------------------------


def test_settle_action_records_today_and_reports_counts(secretariat_client, secretariat, closed, store, other_store):
    paid, pays = statement_of(store), statement_of(other_store)
    statement_settle(statement=paid, on=timezone.localdate(), staff=secretariat)

    response = run_action(secretariat_client, "settle", paid, pays)

    pays.refresh_from_db()
    assert (pays.settled_on, pays.settled_by) == (timezone.localdate(), secretariat)
    response = secretariat_client.get(response["Location"])
    assert messages_of(response) == [
        shown(
            "%(count)d statement recorded as settled today.",
            "%(count)d statements recorded as settled today.",
            1,
            count=1,
        ),
        shown(
            "%(count)d statement skipped: already settled, cancelled or with nothing to settle.",
            "%(count)d statements skipped: already settled, cancelled or with nothing to settle.",
            1,
            count=1,
        ),
    ]


def give_bank_account(merchant):
    merchant.bank_code, merchant.bank_branch_code = "0005", "123"
    merchant.bank_account_number, merchant.bank_account_holder_kana = "7654321", "ｶ)ﾋｶﾘﾍﾞｰｶﾘｰ"
    merchant.save()


def test_transfer_file_pays_out_the_chosen_payouts(secretariat_client, closed, store, other_store):
    paid = statement_of(store)
    give_bank_account(store.merchant)

    response = run_action(secretariat_client, "transfer_file", paid, statement_of(other_store))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=shift_jis"
    transfer_date = max(timezone.localdate(), paid.due_on)
    assert response["Content-Disposition"] == f'attachment; filename="zengin-{transfer_date:%Y%m%d}.txt"'
    records = response.content.split(b"\r\n")
    assert records[-1] == b""
    assert [len(record) for record in records[:-1]] == [120, 120, 120, 120]
    data = records[1]
    assert data[:1] == b"2" and data[1:5] == b"0005"
    # 振込金額 (N10) at bytes 81-90: what the secretariat owes the store.
    assert int(data[80:90]) == -paid.net_amount_yen == 3_595


def test_transfer_file_problem_becomes_an_error_message(secretariat_client, closed, store):
    response = run_action(secretariat_client, "transfer_file", statement_of(store))

    assert response.status_code == 302
    response = secretariat_client.get(response["Location"])
    assert messages_of(response) == [shown("%(merchant)s has no bank account on file.", merchant=str(store.merchant))]


# --- adjustments ---------------------------------------------------------------------------


def test_adjustment_is_recorded_through_the_service_with_its_audit_event(
    secretariat_client, secretariat, closed, store
):
    statement = statement_of(store)

    response = secretariat_client.post(
        reverse("admin:billing_billingadjustment_add"),
        {
            "store": store.pk,
            "amount_yen": "-1500",
            "tax": Tax.TAXABLE_10,
            "reason": "端末レンタル料の過請求",
            "corrects": statement.pk,
        },
    )

    assert response.status_code == 302
    adjustment = BillingAdjustment.objects.get()
    assert (adjustment.amount_yen, adjustment.corrects, adjustment.created_by) == (-1_500, statement, secretariat)
    event = AuditEvent.objects.get(object_type="billing.BillingAdjustment")
    assert event.summary == "Recorded a billing adjustment" and event.detail["corrects"] == statement.number


def test_adjustment_cannot_correct_another_stores_statement(secretariat_client, closed, store, other_store):
    response = secretariat_client.post(
        reverse("admin:billing_billingadjustment_add"),
        {
            "store": store.pk,
            "amount_yen": "100",
            "tax": Tax.NON_TAXABLE,
            "reason": "誤り",
            "corrects": statement_of(other_store).pk,
        },
    )

    assert response.status_code == 200
    assert shown("The corrected statement belongs to another store.") in response.content.decode()
    assert not BillingAdjustment.objects.exists()


def test_pending_adjustment_can_be_changed(secretariat_client, secretariat, store):
    adjustment = billing_adjustment_create(
        store=store, amount_yen=500, tax=Tax.NON_TAXABLE, reason="誤り", staff=secretariat
    )

    response = secretariat_client.post(
        reverse("admin:billing_billingadjustment_change", args=[adjustment.pk]),
        {"amount_yen": "700", "tax": Tax.NON_TAXABLE, "reason": "誤り（訂正）", "corrects": ""},
    )

    assert response.status_code == 302
    adjustment.refresh_from_db()
    assert (adjustment.amount_yen, adjustment.reason) == (700, "誤り（訂正）")
    assert AuditEvent.objects.filter(summary="Changed a billing adjustment").exists()


def test_applied_adjustment_is_read_only(secretariat_client, secretariat, billing_settings, store):
    adjustment = billing_adjustment_create(
        store=store, amount_yen=500, tax=Tax.NON_TAXABLE, reason="誤り", staff=secretariat
    )
    close_now(billing_settings)
    url = reverse("admin:billing_billingadjustment_change", args=[adjustment.pk])

    page = secretariat_client.get(url).content.decode()
    secretariat_client.post(url, {"amount_yen": "9", "tax": Tax.NON_TAXABLE, "reason": "x"})
    deleted = secretariat_client.post(
        reverse("admin:billing_billingadjustment_delete", args=[adjustment.pk]), {"post": "yes"}
    )

    assert 'name="amount_yen"' not in page
    adjustment.refresh_from_db()
    assert adjustment.amount_yen == 500 and adjustment.applied_in is not None
    assert deleted.status_code == 403


# --- auditors ------------------------------------------------------------------------------


def test_auditor_sees_periods_statements_and_documents(auditor_client, closed, store):
    statement = statement_of(store)

    pages = [
        auditor_client.get(PERIODS),
        auditor_client.get(reverse("admin:billing_period_change", args=[closed.pk])),
        auditor_client.get(STATEMENTS),
        auditor_client.get(reverse("admin:billing_statement_change", args=[statement.pk])),
        auditor_client.get(reverse("admin:billing_statement_pdf", args=[statement.pk])),
        auditor_client.get(ADJUSTMENTS),
        auditor_client.get(reverse("admin:billing_billingsettings_changelist")),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    statement_list, period_page = pages[2].content.decode(), pages[1].content.decode()
    assert statement.number in statement_list
    assert 'value="settle"' not in statement_list and 'value="transfer_file"' not in statement_list
    assert 'id="reopen-period"' not in period_page and 'id="send-documents"' not in period_page
    assert 'id="close-period"' not in pages[0].content.decode()


def test_auditor_cannot_act(auditor_client, closed, store, billing_settings):
    statement = statement_of(store)

    responses = [
        auditor_client.post(
            reverse("admin:billing_period_close"),
            {"programme": billing_settings.programme.pk, "period": last_period(billing_settings)},
        ),
        auditor_client.post(reverse("admin:billing_period_send", args=[closed.pk])),
        auditor_client.post(reverse("admin:billing_period_reopen", args=[closed.pk]), {"reason": "x"}),
        auditor_client.post(
            reverse("admin:billing_billingadjustment_add"),
            {"store": store.pk, "amount_yen": "1", "tax": Tax.NON_TAXABLE, "reason": "x"},
        ),
        auditor_client.post(
            reverse("admin:billing_billingsettings_change", args=[billing_settings.pk]),
            {"issuer_registration_number": "T9999999999999"},
        ),
    ]
    run_action(auditor_client, "settle", statement)

    assert [response.status_code for response in responses] == [403] * len(responses)
    statement.refresh_from_db()
    closed.refresh_from_db()
    assert statement.settled_on is None and statement.status == Statement.Status.ISSUED
    assert closed.status == Period.Status.CLOSED
    assert not OrmQ.objects.exists() and not BillingAdjustment.objects.exists()
    assert BillingSettings.objects.get().issuer_registration_number == billing_settings.issuer_registration_number
