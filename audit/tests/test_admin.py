import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record
from stores.models import Merchant
from stores.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def merchant_form(**overrides):
    data = {
        "code": "M-NEW",
        "name": "株式会社まちの店",
        "bank_account_type": "ordinary",
        "stores-TOTAL_FORMS": "0",
        "stores-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_adding_in_the_admin_records_an_audit_event(secretariat_client, secretariat):
    # when
    secretariat_client.post(reverse("admin:stores_merchant_add"), merchant_form())
    # then
    merchant = Merchant.objects.get(code="M-NEW")
    event = AuditEvent.objects.get(object_type="stores.Merchant", object_id=str(merchant.pk))
    assert (event.actor, event.action, event.object_repr) == (secretariat, AuditEvent.Action.ADD, str(merchant))


def test_changing_in_the_admin_records_an_audit_event_naming_the_field(secretariat_client, secretariat):
    # given
    merchant = MerchantFactory(code="M-OLD")
    # when
    secretariat_client.post(
        reverse("admin:stores_merchant_change", args=[merchant.pk]),
        merchant_form(
            code="M-OLD", name="新しい社名", invoice_registration_number=merchant.invoice_registration_number
        ),
    )
    # then
    event = AuditEvent.objects.get(object_type="stores.Merchant", object_id=str(merchant.pk))
    assert (event.actor, event.action) == (secretariat, AuditEvent.Action.CHANGE)
    assert "name" in str(event.detail)
    assert "新しい社名" not in str(event.detail)


def test_audit_trail_lists_events(secretariat_client, secretariat):
    # given
    audit_record(actor=secretariat, action=AuditEvent.Action.ACTION, obj=MerchantFactory(name="監査対象商店"))
    # when
    response = secretariat_client.get(reverse("admin:audit_auditevent_changelist"))
    # then
    assert response.status_code == 200
    assert "監査対象商店" in response.content.decode()


@pytest.fixture
def event(secretariat):
    return audit_record(actor=secretariat, action=AuditEvent.Action.ACTION, obj=MerchantFactory(), summary="before")


def test_audit_event_cannot_be_changed_in_the_admin(secretariat_client, event):
    # when
    response = secretariat_client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"summary": "after"})
    # then
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.summary == "before"


def test_audit_event_page_has_no_save_button(secretariat_client, event):
    # when
    response = secretariat_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    # then
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_audit_event_cannot_be_deleted_in_the_admin(secretariat_client, event):
    # when
    response = secretariat_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})
    # then
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_event_cannot_be_deleted_by_a_bulk_action(admin_client, event):
    # given: even a superuser
    url = reverse("admin:audit_auditevent_changelist")
    # when
    admin_client.post(url, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    # then
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_event_cannot_be_added_in_the_admin(admin_client):
    # when
    response = admin_client.get(reverse("admin:audit_auditevent_add"))
    # then
    assert response.status_code == 403


def test_admin_log_is_shown_read_only(admin_client):
    # given
    admin_client.post(reverse("admin:stores_merchant_add"), merchant_form())
    merchant = Merchant.objects.get(code="M-NEW")
    entry = LogEntry.objects.get(object_id=str(merchant.pk))
    # when
    listing = admin_client.get(reverse("admin:admin_logentry_changelist"))
    change = admin_client.post(reverse("admin:admin_logentry_change", args=[entry.pk]), {"object_repr": "x"})
    # then
    assert str(merchant) in listing.content.decode()
    assert change.status_code == 403
