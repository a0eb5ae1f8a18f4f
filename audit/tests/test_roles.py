import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT, sync_role_groups
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {
    "audit",
    "stores",
    "members",
    "points",
    "billing",
    "campaigns",
    "coupons",
    "rallies",
    "exchange",
    "ranks",
    "legacy",
    "donations",
    "qrpoints",
    "mailing",
    "offers",
}
# Read-only for every role: the analytics summaries are the ledger's, written only by their refresh.
VIEW_ONLY_APPS = {"analytics"}


def codenames(role: str) -> set[str]:
    sync_role_groups()
    permissions = Group.objects.get(name=role).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_secretariat_has_every_permission_of_our_apps():
    # given
    everything = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(content_type__app_label__in=OUR_APPS).select_related("content_type")
    }
    # when
    granted = codenames(SECRETARIAT)
    # then
    assert everything <= granted
    assert "members.view_personal_data" in granted
    assert "legacy.run_legacy_import" in granted
    assert {"auth.view_user", "django_q.view_schedule", "django_q.add_schedule"} <= granted
    assert "auth.change_user" not in granted


def test_operator_has_no_permission_on_members():
    # when
    granted = codenames(OPERATOR)
    # then
    assert not {c for c in granted if c.startswith("members.")}
    assert "points.view_entry" in granted
    # Operators run campaigns; everything else they only read, and the bonuses given are history.
    assert {"campaigns.add_campaign", "campaigns.change_campaign"} <= granted
    # They write, schedule and send mail to members too; the send log is history.
    assert {"mailing.add_mailing", "mailing.change_mailing", "mailing.send_mailing"} <= granted
    assert "mailing.view_delivery" in granted and "mailing.delete_mailing" not in granted
    runs = ("_campaign", "_coupontemplate", "_rally", "_rallygoal", "_qrevent", "_flyer", "_mailing", "_expiryreminder")
    assert not {c for c in granted if not c.split(".")[1].startswith("view_") and not c.endswith(runs)}


def test_auditor_can_only_view():
    # when
    granted = codenames(AUDITOR)
    # then
    assert {"members.view_member", "members.view_personal_data", "audit.view_auditevent"} <= granted
    assert all(c.split(".")[1].startswith("view_") for c in granted)
    assert {c.split(".")[0] for c in granted} == OUR_APPS | VIEW_ONLY_APPS


def test_sync_makes_a_group_match_the_policy_again():
    # given
    group = Group.objects.get_or_create(name=AUDITOR)[0]
    group.permissions.add(Permission.objects.get(codename="change_store"))
    # when
    sync_role_groups()
    # then
    assert not group.permissions.filter(codename="change_store").exists()


def test_operator_cannot_open_the_member_list(operator_client):
    # when
    response = operator_client.get("/admin/members/member/")
    # then
    assert response.status_code == 403


def test_operator_can_view_stores(operator_client):
    # given
    StoreFactory(name="運用が見る店")
    # when
    response = operator_client.get(reverse("admin:stores_store_changelist"))
    # then
    assert response.status_code == 200
    assert "運用が見る店" in response.content.decode()


def test_operator_cannot_change_a_store(operator_client):
    # given
    store = StoreFactory()
    # when
    response = operator_client.post(reverse("admin:stores_store_change", args=[store.pk]), {"name": "x"})
    # then
    assert response.status_code == 403


def test_auditor_sees_a_store_without_a_save_button(auditor_client):
    # given
    store = StoreFactory(name="監査が見る店")
    # when
    response = auditor_client.get(reverse("admin:stores_store_change", args=[store.pk]))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "監査が見る店" in page
    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page


def test_auditor_cannot_save_a_store(auditor_client):
    # given
    store = StoreFactory(name="監査が見る店")
    # when
    response = auditor_client.post(reverse("admin:stores_store_change", args=[store.pk]), {"name": "書き換え"})
    # then
    assert response.status_code == 403
    store.refresh_from_db()
    assert store.name == "監査が見る店"


def test_auditor_is_not_offered_terminal_actions(auditor_client):
    # given
    StoreFactory()
    # when
    page = auditor_client.get(reverse("admin:stores_terminal_changelist")).content.decode()
    # then
    assert 'value="issue_secret"' not in page
    assert 'value="revoke"' not in page
