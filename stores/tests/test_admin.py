import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from stores.models import Merchant, Store, Terminal, invoice_number_validator
from stores.selectors import terminal_authenticate
from stores.tests.factories import MerchantFactory, StoreFactory, TerminalFactory
from stores.tests.helpers import as_shown

pytestmark = pytest.mark.django_db

TERMINALS = reverse("admin:stores_terminal_changelist")


def run_action(client, action, *objects, url=TERMINALS):
    return client.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects]})


def shown_secret(response) -> str:
    match = re.search(r'<code id="terminal-secret"[^>]*>([^<]+)</code>', response.content.decode())
    assert match, "the page shows no secret"
    return match.group(1)


def test_issue_secret_action_shows_a_secret_that_authenticates_the_terminal(secretariat_client):
    # given
    terminal = TerminalFactory()
    # when
    response = run_action(secretariat_client, "issue_secret", terminal)
    # then
    assert response.status_code == 200
    assert terminal_authenticate(secret=shown_secret(response)) == terminal


def test_issued_secret_is_not_shown_again(secretariat_client):
    # given
    terminal = TerminalFactory()
    secret = shown_secret(run_action(secretariat_client, "issue_secret", terminal))
    # when
    change_page = secretariat_client.get(reverse("admin:stores_terminal_change", args=[terminal.pk]))
    list_page = secretariat_client.get(TERMINALS)
    # then
    assert change_page.status_code == 200
    assert secret not in change_page.content.decode()
    assert secret not in list_page.content.decode()


def test_issued_secret_page_is_not_cached(secretariat_client):
    # when
    response = run_action(secretariat_client, "issue_secret", TerminalFactory())
    # then
    assert "no-store" in response["Cache-Control"]


def test_issue_secret_action_refuses_several_terminals_at_once(secretariat_client):
    # given
    first, second = TerminalFactory(), TerminalFactory()
    # when
    response = run_action(secretariat_client, "issue_secret", first, second)
    # then
    assert response.status_code == 302
    assert Terminal.objects.filter(secret_hash__isnull=False).count() == 0


def test_revoke_action_stops_the_terminal_at_once(secretariat_client):
    # given
    terminal = TerminalFactory()
    secret = shown_secret(run_action(secretariat_client, "issue_secret", terminal))
    # when
    response = run_action(secretariat_client, "revoke", terminal)
    # then
    assert response.status_code == 302
    assert terminal_authenticate(secret=secret) is None
    page = secretariat_client.get(reverse("admin:stores_terminal_change", args=[terminal.pk]))
    assert as_shown(Terminal.Status.REVOKED.label) in page.content.decode()


def test_terminal_status_cannot_be_changed_in_the_form(secretariat_client):
    # given
    terminal = TerminalFactory(status=Terminal.Status.REVOKED)
    # when
    secretariat_client.post(
        reverse("admin:stores_terminal_change", args=[terminal.pk]),
        {
            "code": terminal.code,
            "name": terminal.name,
            "serial_number": "",
            "store": terminal.store_id,
            "status": Terminal.Status.ACTIVE,
        },
    )
    # then
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.REVOKED


def merchant_form(**overrides):
    data = {
        "code": "M-NEW",
        "name": "株式会社まちの店",
        "bank_account_type": "ordinary",
        "stores-TOTAL_FORMS": "0",
        "stores-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_merchant_add_form_rejects_a_bad_invoice_registration_number(secretariat_client):
    # when
    response = secretariat_client.post(
        reverse("admin:stores_merchant_add"), merchant_form(invoice_registration_number="T123")
    )
    # then
    assert response.status_code == 200
    assert as_shown(invoice_number_validator.message) in response.content.decode()
    assert not Merchant.objects.filter(code="M-NEW").exists()


def test_merchant_add_form_accepts_a_good_invoice_registration_number(secretariat_client):
    # when
    response = secretariat_client.post(
        reverse("admin:stores_merchant_add"), merchant_form(invoice_registration_number="T1234567890123")
    )
    # then
    assert response.status_code == 302
    assert Merchant.objects.get(code="M-NEW").invoice_registration_number == "T1234567890123"


def store_form(merchant, **overrides):
    data = {
        "code": "S-NEW",
        "name": "まちのパン屋",
        "merchant": merchant.pk,
        "category": Store.Category.BAKERY,
        "status": Store.Status.ACTIVE,
        "earn_rate_percent": "1.00",
        "contract_start": "2025-04-01",
        "terminals-TOTAL_FORMS": "0",
        "terminals-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_store_earn_rate_is_entered_as_a_percentage(secretariat_client):
    # given
    merchant = MerchantFactory()
    # when
    response = secretariat_client.post(reverse("admin:stores_store_add"), store_form(merchant, earn_rate_percent="1.5"))
    # then
    assert response.status_code == 302
    assert Store.objects.get(code="S-NEW").earn_rate_bp == 150


def test_store_earn_rate_above_100_percent_is_refused(secretariat_client):
    # when
    response = secretariat_client.post(
        reverse("admin:stores_store_add"), store_form(MerchantFactory(), earn_rate_percent="101")
    )
    # then
    assert response.status_code == 200
    assert not Store.objects.filter(code="S-NEW").exists()


def test_store_list_shows_the_earn_rate_as_a_percentage(secretariat_client):
    # given
    StoreFactory(earn_rate_bp=150)
    # when
    response = secretariat_client.get(reverse("admin:stores_store_changelist"))
    # then
    assert "1.50%" in response.content.decode()


def test_store_form_adds_a_terminal_inline(secretariat_client):
    # given
    store = StoreFactory()
    data = store_form(store.merchant, code=store.code, name=store.name) | {
        "terminals-TOTAL_FORMS": "1",
        "terminals-0-code": "TRM-INLINE",
        "terminals-0-name": "レジ1",
        "terminals-0-store": store.pk,
    }
    # when
    response = secretariat_client.post(reverse("admin:stores_store_change", args=[store.pk]), data)
    # then
    assert response.status_code == 302
    assert store.terminals.get().code == "TRM-INLINE"


def test_suspend_action_suspends_the_selected_stores(secretariat_client):
    # given
    store = StoreFactory()
    # when
    run_action(secretariat_client, "suspend", store, url=reverse("admin:stores_store_changelist"))
    # then
    store.refresh_from_db()
    assert store.status == Store.Status.SUSPENDED


def test_silent_filter_lists_active_terminals_not_heard_from_in_time(secretariat_client, settings):
    # given
    settings.TERMINAL_SILENT_AFTER_MINUTES = 60
    now = timezone.now()
    TerminalFactory(code="TRM-RECENT", last_seen_at=now - datetime.timedelta(minutes=5))
    TerminalFactory(code="TRM-QUIET", last_seen_at=now - datetime.timedelta(minutes=61))
    TerminalFactory(code="TRM-NEVER", last_seen_at=None)
    TerminalFactory(code="TRM-REVOKED", status=Terminal.Status.REVOKED, last_seen_at=now - datetime.timedelta(days=3))
    # when
    page = secretariat_client.get(TERMINALS, {"silent": "yes"}).content.decode()
    # then
    assert "TRM-QUIET" in page
    assert "TRM-NEVER" in page
    assert "TRM-RECENT" not in page
    assert "TRM-REVOKED" not in page


def test_heard_from_filter_lists_terminals_seen_recently(secretariat_client, settings):
    # given
    settings.TERMINAL_SILENT_AFTER_MINUTES = 60
    now = timezone.now()
    TerminalFactory(code="TRM-RECENT", last_seen_at=now - datetime.timedelta(minutes=5))
    TerminalFactory(code="TRM-QUIET", last_seen_at=now - datetime.timedelta(minutes=61))
    # when
    page = secretariat_client.get(TERMINALS, {"silent": "no"}).content.decode()
    # then
    assert "TRM-RECENT" in page
    assert "TRM-QUIET" not in page


@pytest.mark.parametrize("model", ["merchant", "store", "terminal"])
def test_changelist_is_searchable(secretariat_client, model):
    # given
    TerminalFactory()
    # when
    response = secretariat_client.get(reverse(f"admin:stores_{model}_changelist"), {"q": "テスト"})
    # then
    assert response.status_code == 200


def test_store_autocomplete_finds_a_store_by_name(secretariat_client):
    # given
    store = StoreFactory(name="さくらベーカリー")
    # when
    response = secretariat_client.get(
        reverse("admin:autocomplete"),
        {"term": "さくら", "app_label": "stores", "model_name": "terminal", "field_name": "store"},
    )
    # then
    assert [r["id"] for r in response.json()["results"]] == [str(store.pk)]


def test_secretariat_is_offered_the_terminal_actions(secretariat_client):
    # when
    page = secretariat_client.get(TERMINALS).content.decode()
    # then
    assert 'value="issue_secret"' in page
    assert 'value="revoke"' in page
