"""The firewall between companies, page by page: a company's staff list only their programme's rows, see a
member who belongs to both companies (with only their own programme's points, coupons, stamps and
exchanges), are offered only their programme's rows in forms, list filters and autocompletes, and read
reports of their programme only; what changes a member in every programme is the group's secretariat's."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from campaigns.models import Campaign
from common.scoping import programme_path
from exchange.models import Counter
from exchange.tests.factories import give_points
from loyalty.tests.conftest import scoped_staff
from members.models import Member
from members.tests.test_admin_members import inline_management_data, member_form_data
from points.models import Entry, Programme, StaffProgramme
from points.tests.factories import StoreFactory, join
from stores.models import Merchant, Store

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def listed(response, obj) -> bool:
    return response.context_data["cl"].queryset.filter(pk=obj.pk).exists()


def choices(form_field) -> set:
    return set(form_field.queryset.values_list("pk", flat=True))


@pytest.fixture
def shared_member(world):
    """Programme A's member, who also holds points in programme B: one person, one set of personal data."""
    member = world["A"][Member]
    give_points(member, world["B"][Programme], 700)
    return member


# --- the lists -------------------------------------------------------------------------------


def registered(*, of_a_programme: bool) -> list[type]:
    return [model for model in admin.site._registry if (programme_path(model) is not None) == of_a_programme]


@pytest.mark.parametrize("model", registered(of_a_programme=True), ids=lambda model: model._meta.label)
def test_a_companys_staff_list_only_their_programmes_rows(client, world, staff_b, secretariat, model):
    a_row, b_row = world["A"][model], world["B"][model]

    client.force_login(staff_b)
    response = client.get(changelist(model))
    assert response.status_code == 200
    assert listed(response, b_row) and not listed(response, a_row)

    client.force_login(secretariat)
    response = client.get(changelist(model))
    assert listed(response, a_row) and listed(response, b_row)


@pytest.mark.parametrize("model", registered(of_a_programme=False), ids=lambda model: model._meta.label)
def test_lists_of_the_whole_group_are_closed_to_a_companys_staff(client, world, staff_b, model):
    client.force_login(staff_b)
    assert client.get(changelist(model)).status_code == 403


def test_the_index_shows_a_companys_staff_no_system_screens(client, world, staff_b, secretariat):
    client.force_login(staff_b)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "会員・カード" in page
    # The system screens are captioned システム：ユーザー… (the old system's import is a programme's own screen).
    assert "システム：" not in page and "監査" not in page

    client.force_login(secretariat)
    assert "システム：" in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()


# --- a member of both companies ------------------------------------------------------------------


def test_a_member_of_both_programmes_is_seen_by_both_companies_staff(client, shared_member, staff_a, staff_b):
    for staff in (staff_a, staff_b):
        client.force_login(staff)
        assert listed(client.get(changelist(Member)), shared_member)
        page = client.get(reverse("admin:members_member_change", args=[shared_member.pk]))
        assert page.status_code == 200
        # Personal data, for a member who belongs to the staff's programme
        assert page.context["personal_data"][0][1] == "プログラムAの会員"


def test_a_member_listed_once_by_staff_of_both_programmes(client, world, shared_member):
    # Given staff who work for both programmes
    both = scoped_staff("ryouhou", "A")
    StaffProgramme.objects.create(user=both, programme=world["B"][Programme])
    client.force_login(both)

    # When / then: the member who has an account in each is one row
    rows = client.get(changelist(Member)).context_data["cl"].queryset
    assert [member.pk for member in rows].count(shared_member.pk) == 1


def test_the_member_page_shows_only_the_staffs_programmes_points(client, world, shared_member, staff_b, secretariat):
    client.force_login(staff_b)
    context = client.get(reverse("admin:members_member_change", args=[shared_member.pk])).context
    assert [account.programme.code for account in context["accounts"]] == ["B"]
    assert {line.programme_name for line in context["expiring"]} == {"プログラムB"}
    assert {line.entry.account.programme.code for line in context["history"] if line.entry} == {"B"}
    assert context["coupons"] == [] and context["rallies"] == []
    assert context["reservations"] == [] and context["exchanges"] == []

    client.force_login(secretariat)
    context = client.get(reverse("admin:members_member_change", args=[shared_member.pk])).context
    assert [account.programme.code for account in context["accounts"]] == ["A", "B"]
    assert len(context["coupons"]) == 1 and len(context["rallies"]) == 1 and len(context["reservations"]) == 1


def test_only_the_secretariat_withdraws_a_member_of_another_company_too(client, shared_member, staff_b, secretariat):
    url = reverse("admin:members_member_withdraw", args=[shared_member.pk])
    page_url = reverse("admin:members_member_change", args=[shared_member.pk])

    # Given staff of B, on the page of a member who also belongs to A
    client.force_login(staff_b)
    operations = [label for label, _url in client.get(page_url).context["operations"]]
    assert "Withdraw (退会)" not in " ".join(map(str, operations)) and url not in str(operations)

    # When they post the withdrawal anyway
    response = client.post(url, {"confirm": "on", "reason": "本人希望"}, HTTP_ACCEPT_LANGUAGE="ja", follow=True)

    # Then it is refused in Japanese and nothing changed
    assert "グループの事務局" in response.content.decode()
    shared_member.refresh_from_db()
    assert shared_member.status != Member.Status.WITHDRAWN

    client.force_login(secretariat)
    assert url in str(client.get(page_url).context["operations"])


def test_a_companys_staff_withdraw_a_member_of_theirs_alone(client, world, staff_b):
    member = world["B"][Member]
    client.force_login(staff_b)

    client.post(reverse("admin:members_member_withdraw", args=[member.pk]), {"confirm": "on", "reason": "本人希望"})

    member.refresh_from_db()
    assert member.status == Member.Status.WITHDRAWN


def test_adjusting_points_offers_only_the_staffs_programmes(client, shared_member, world, staff_b):
    client.force_login(staff_b)
    url = reverse("admin:members_member_adjust", args=[shared_member.pk])

    form = client.get(url).context["form"]
    assert choices(form.fields["programme"]) == {world["B"][Programme].pk}

    response = client.post(url, {"programme": world["A"][Programme].pk, "points": 10, "reason": "訂正"})
    assert response.status_code == 200 and "programme" in response.context["form"].errors
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST, reason="訂正").exists()


# --- forms, filters, autocompletes -------------------------------------------------------------------


def test_forms_offer_only_the_staffs_programme_and_its_stores(client, world, staff_b):
    client.force_login(staff_b)
    form = client.get(reverse("admin:campaigns_campaign_add")).context["adminform"].form
    assert choices(form.fields["programme"]) == {world["B"][Programme].pk}
    assert choices(form.fields["store_ids"]) == {world["B"][Store].pk}


def test_a_campaign_cannot_be_added_to_another_programme(client, world, staff_b):
    client.force_login(staff_b)
    start = timezone.localtime()
    client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "programme": world["A"][Programme].pk,
            "name": "よそのキャンペーン",
            "status": "draft",
            "kind": "multiplier",
            "multiplier_percent": 200,
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"),
            "ends_at_1": "23:59",
            "funder": "store",
            "priority": 0,
        },
    )
    assert not Campaign.objects.filter(name="よそのキャンペーン").exists()


def test_list_filters_offer_only_the_staffs_programmes(client, world, staff_b, secretariat):
    # Given staff of B who also work for a third programme (with one programme there is nothing to filter)
    third = Programme.objects.create(code="C", name="プログラムC")
    StaffProgramme.objects.create(user=staff_b, programme=third)

    def programme_filter(user):
        client.force_login(user)
        specs = client.get(changelist(Entry)).context_data["cl"].filter_specs
        spec = next(spec for spec in specs if getattr(spec, "field_path", "") == "account__programme")
        return {pk for pk, _name in spec.lookup_choices}

    assert programme_filter(staff_b) == {world["B"][Programme].pk, third.pk}
    assert world["A"][Programme].pk in programme_filter(secretariat)


def test_autocompletes_offer_only_the_staffs_rows(client, world, staff_b):
    client.force_login(staff_b)

    def found(app, model, field):
        response = client.get(
            reverse("admin:autocomplete"), {"app_label": app, "model_name": model, "field_name": field, "term": ""}
        )
        return {int(result["id"]) for result in json.loads(response.content)["results"]}

    assert found("ranks", "rank", "programme") == {world["B"][Programme].pk}
    assert found("members", "card", "member") == {world["B"][Member].pk}
    assert found("stores", "terminal", "store") == {world["B"][Store].pk}


def test_imports_are_the_secretariats(client, world, staff_b, secretariat):
    client.force_login(staff_b)
    assert client.get(reverse("admin:members_member_import")).status_code == 403
    client.force_login(secretariat)
    assert client.get(reverse("admin:members_member_import")).status_code == 200


# --- reports --------------------------------------------------------------------------------


def test_the_outstanding_points_report_counts_the_staffs_programmes_only(client, world, staff_b, secretariat):
    url = reverse("admin:points_outstanding")
    today = timezone.localdate().isoformat()

    client.force_login(staff_b)
    context = client.get(url, {"on": today}).context
    assert {programme.code for programme, _store, _points in context["rows"]} == {"B"}
    assert choices(context["form"].fields["programme"]) == {world["B"][Programme].pk}
    # Asking for A's programme by its id is a wrong choice, not A's figures
    refused = client.get(url, {"on": today, "programme": world["A"][Programme].pk}).context
    assert "programme" in refused["form"].errors and "rows" not in refused

    client.force_login(secretariat)
    context = client.get(url, {"on": today}).context
    assert {programme.code for programme, _store, _points in context["rows"]} == {"A", "B"}


def test_the_coupon_report_counts_the_staffs_programmes_only(client, world, staff_b):
    client.force_login(staff_b)
    context = client.get(reverse("admin:coupons_report")).context
    assert [template.programme.code for template, _figures in context["by_template"]] == ["B"]


def test_the_exchange_reports_show_the_staffs_counters_only(client, world, staff_b):
    client.force_login(staff_b)
    daily = client.get(reverse("admin:exchange_report_daily")).context["form"]
    assert choices(daily.fields["counter"]) == {world["B"][Counter].pk}
    monthly = client.get(reverse("admin:exchange_report_monthly")).context
    assert monthly["programme"] == world["B"][Programme]
    assert choices(monthly["form"].fields["programme"]) == {world["B"][Programme].pk}


def test_closing_a_period_offers_only_the_staffs_programmes(client, world, staff_b):
    client.force_login(staff_b)
    form = client.get(reverse("admin:billing_period_close")).context["form"]
    assert choices(form.fields["programme"]) == {world["B"][Programme].pk}


# --- the desk -----------------------------------------------------------------------------


def test_the_desk_does_not_find_another_companys_card(client, world, staff_b):
    client.force_login(staff_b)
    theirs = world["A"][Member].cards.first()

    response = client.post(reverse("admin:exchange_desk"), {"card": theirs.number}, HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 200
    # The same answer as for a number nobody has: nothing tells the card is another company's member's
    assert response.context["card_form"].errors["card"] == ["この番号のカードはありません。"]
    assert response.context["counter"].programme == world["B"][Programme]


# --- who works for which programme ------------------------------------------------------------------


def test_the_secretariat_says_which_programmes_staff_work_for(client, world, secretariat):
    # Given a new staff member of company A, and the secretariat at the admin
    newcomer = scoped_staff("shinjin", "A")
    StaffProgramme.objects.filter(user=newcomer).delete()
    client.force_login(secretariat)
    page = client.get(reverse("admin:points_staffprogramme_add"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "スタッフの担当プログラム" in page

    # When the secretariat gives them programme A
    response = client.post(
        reverse("admin:points_staffprogramme_add"), {"user": newcomer.pk, "programme": world["A"][Programme].pk}
    )

    # Then they work for A only, and the change is in the audit trail
    assert response.status_code == 302
    assert list(StaffProgramme.objects.filter(user=newcomer).values_list("programme__code", flat=True)) == ["A"]
    assert AuditEvent.objects.filter(object_type="points.StaffProgramme").exists()
    client.force_login(newcomer)
    assert not listed(client.get(changelist(Member)), world["B"][Member])


def test_a_companys_staff_cannot_widen_their_own_programmes(client, world, staff_b):
    client.force_login(staff_b)
    own = StaffProgramme.objects.get(user=staff_b)
    assert client.get(changelist(StaffProgramme)).status_code == 403
    assert client.post(reverse("admin:points_staffprogramme_delete", args=[own.pk]), {"post": "yes"}).status_code == 404
    assert (
        client.post(
            reverse("admin:points_staffprogramme_add"), {"user": staff_b.pk, "programme": world["A"][Programme].pk}
        ).status_code
        == 403
    )
    assert StaffProgramme.objects.filter(user=staff_b).count() == 1


def test_a_member_registered_by_a_companys_staff_joins_their_programme(client, world, staff_b):
    # Given staff of B at the member registration form
    client.force_login(staff_b)
    add = reverse("admin:members_member_add")
    page = client.get(add)

    # When they register a member
    response = client.post(add, {**member_form_data(), **inline_management_data(page)})

    # Then the member has an (empty) account in B, so that they go on seeing the member, and no other
    assert response.status_code == 302
    member = Member.objects.order_by("-pk").first()
    assert [(account.programme.code, account.balance) for account in member.accounts.all()] == [("B", 0)]
    assert AuditEvent.objects.filter(object_type="points.Account", object_id=str(member.accounts.get().pk)).exists()
    assert client.get(reverse("admin:members_member_change", args=[member.pk])).status_code == 200


def test_a_superuser_sets_a_users_programmes_on_the_user_page(client, world, staff_b, admin_user):
    # Given a superuser on the user page of staff of B
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[staff_b.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
    assert "担当プログラム（なし：グループ全体を担当）" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(inline_management_data(page))
    data["groups"] = [group.pk for group in staff_b.groups.all()]
    data.pop("user_permissions", None)
    for name in ("last_login", "date_joined"):
        value = timezone.localtime(getattr(staff_b, name) or timezone.now())
        data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        data.pop(name, None)

    # When they remove B and give A
    own = StaffProgramme.objects.get(user=staff_b)
    prefix = "staff_programmes"
    data.update(
        {
            f"{prefix}-0-id": own.pk,
            f"{prefix}-0-user": staff_b.pk,
            f"{prefix}-0-programme": own.programme_id,
            f"{prefix}-0-DELETE": "on",
            f"{prefix}-1-user": staff_b.pk,
            f"{prefix}-1-programme": world["A"][Programme].pk,
            f"{prefix}-TOTAL_FORMS": 2,
        }
    )
    response = client.post(url, data)

    # Then staff_b works for A now
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(StaffProgramme.objects.filter(user=staff_b).values_list("programme__code", flat=True)) == ["A"]


def test_exports_hold_the_staffs_programmes_rows_only(client, world, staff_b):
    # Given staff of B exporting the members, personal data included (their role may see it)
    client.force_login(staff_b)
    url = reverse("admin:members_member_export")
    form = client.get(url).context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}

    # When
    response = client.post(url, {"format": "0", "resource": "0", **ticked})

    # Then B's member is in the file and A's is not
    content = response.content.decode("utf-8-sig")
    assert world["B"][Member].pseudonym in content and "プログラムBの会員" in content
    assert world["A"][Member].pseudonym not in content and "プログラムAの会員" not in content


def test_a_shared_merchants_page_shows_only_the_staffs_stores(client, world, staff_b):
    # Given A's merchant, which also has a store in programme B
    merchant = world["A"][Merchant]
    theirs = world["A"][Store]
    ours = join(StoreFactory(merchant=merchant, name="Bにも出ている店"), world["B"][Programme])
    client.force_login(staff_b)

    # When staff of B open the merchant
    page = client.get(reverse("admin:stores_merchant_change", args=[merchant.pk]))

    # Then its store in B is listed, its store in A only is not
    formset = next(f.formset for f in page.context["inline_admin_formsets"] if f.formset.model is Store)
    assert [form.instance for form in formset.forms] == [ours]
    assert theirs.name not in page.content.decode()
