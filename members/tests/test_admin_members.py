import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from members.admin.base import MASK
from members.models import Card, CardEvent, Member
from members.services import personal_data_indexes
from members.tests.factories import CardFactory, MemberFactory, ProvisionalMemberFactory

CHANGELIST = reverse("admin:members_member_changelist")
ADD = reverse("admin:members_member_add")


def change_url(member: Member) -> str:
    return reverse("admin:members_member_change", args=[member.pk])


def attach_url(member: Member) -> str:
    return reverse("admin:members_member_attach_card", args=[member.pk])


def member_form_data(**overrides) -> dict:
    data = {
        "name": "高橋 美咲",
        "name_kana": "たかはし みさき",
        "birth_date": "1990-05-17",
        "phone": "080-2222-3333",
        "email": "misaki@example.jp",
        "address": "東京都千代田区丸の内1-1-1",
        "gender": "female",
        "birth_year": "",
        "birth_month": "",
        "postal_code": "１００－０００５",
        "terms_version": "2024-04",
        "opt_in_mail_magazine": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def inline_management_data(response) -> dict:
    """The management forms of whatever inlines the change page has (points adds its own)."""
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        for field in formset.formset.management_form:
            data[field.html_name] = field.value()
    return data


# --- Changelist -----------------------------------------------------------


@pytest.mark.django_db
def test_changelist_search_by_phone_shows_the_member(admin_client):
    # given
    wanted = MemberFactory(phone="090-1111-2222")
    other = MemberFactory(phone="090-3333-4444")

    # when
    response = admin_client.get(CHANGELIST, {"q": "09011112222"})

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]
    assert wanted.pseudonym in response.content.decode()
    assert other.pseudonym not in response.content.decode()


@pytest.mark.django_db
def test_changelist_shows_names_to_staff_allowed_to_see_personal_data(admin_client):
    # given
    MemberFactory(name="高橋 美咲")

    # when
    response = admin_client.get(CHANGELIST)

    # then
    assert "高橋 美咲" in response.content.decode()


@pytest.mark.django_db
def test_changelist_masks_names_for_staff_without_personal_data_permission(operator_client):
    # given
    member = MemberFactory(name="高橋 美咲")

    # when
    response = operator_client.get(CHANGELIST)

    # then
    content = response.content.decode()
    assert member.pseudonym in content
    assert "高橋" not in content
    assert MASK in content


@pytest.mark.django_db
def test_changelist_queries_do_not_grow_with_the_page_size(admin_client, django_assert_max_num_queries, monkeypatch):
    # given 300 members, each with a card
    for member in MemberFactory.create_batch(300):
        CardFactory(member=member)
    model_admin = admin.site._registry[Member]

    def queries_for_page_of(size: int) -> int:
        monkeypatch.setattr(model_admin, "list_per_page", size)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(CHANGELIST)
        assert len(response.context["cl"].result_list) == size
        return len(captured)

    # when
    small, large = queries_for_page_of(20), queries_for_page_of(150)

    # then
    assert small == large
    with django_assert_max_num_queries(12):
        admin_client.get(CHANGELIST)


# --- Registration and editing ---------------------------------------------


@pytest.mark.django_db
def test_registering_through_the_add_form_creates_an_active_member_with_indexes(admin_client):
    # given
    page = admin_client.get(ADD)

    # when
    response = admin_client.post(ADD, {**member_form_data(), **inline_management_data(page)})

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    member = Member.objects.get()
    assert member.status == Member.Status.ACTIVE
    assert member.terms_version == "2024-04"
    assert member.terms_agreed_at is not None and member.registered_at is not None
    assert member.phone == "080-2222-3333"
    assert (member.birth_year, member.birth_month, member.postal_code) == (1990, 5, "100-0005")
    assert member.opt_in_mail_magazine and not member.opt_in_direct_mail
    expected = personal_data_indexes(
        {"name": "高橋 美咲", "name_kana": "タカハシ ミサキ", "phone": "08022223333", "email": "misaki@example.jp"}
    )
    assert {column: getattr(member, column) for column in expected} == expected


@pytest.mark.django_db
def test_registration_needs_the_terms_version(admin_client):
    # given
    page = admin_client.get(ADD)

    # when
    response = admin_client.post(ADD, {**member_form_data(terms_version=""), **inline_management_data(page)})

    # then
    assert response.status_code == 200
    assert "terms_version" in response.context["adminform"].form.errors
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_registration_refuses_a_malformed_phone_number(admin_client):
    # given
    page = admin_client.get(ADD)

    # when
    response = admin_client.post(ADD, {**member_form_data(phone="03-1234"), **inline_management_data(page)})

    # then
    assert "phone" in response.context["adminform"].form.errors
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_registering_a_provisional_member_keeps_its_card(admin_client):
    # given a card first seen at a till
    card = CardFactory(member=ProvisionalMemberFactory())
    member = card.member
    page = admin_client.get(change_url(member), {"edit": 1})

    # when
    response = admin_client.post(change_url(member), {**member_form_data(), **inline_management_data(page)})

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.name == "高橋 美咲"
    assert list(member.cards.all()) == [card]


@pytest.mark.django_db
def test_editing_a_phone_number_updates_its_search_index(admin_client):
    # given
    member = MemberFactory(phone="090-1111-2222")
    page = admin_client.get(change_url(member), {"edit": 1})
    data = {**member_form_data(phone="090-9999-8888"), **inline_management_data(page)}

    # when
    response = admin_client.post(change_url(member), data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert admin_client.get(CHANGELIST, {"q": "09099998888"}).context["cl"].result_list[0] == member
    assert not admin_client.get(CHANGELIST, {"q": "09011112222"}).context["cl"].result_list


@pytest.mark.django_db
def test_staff_without_personal_data_permission_do_not_see_the_phone(operator_client):
    # given
    member = MemberFactory(phone="090-1234-5678", email="visible@example.jp")

    # when
    response = operator_client.get(change_url(member))

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert member.pseudonym in content
    assert "090-1234-5678" not in content
    assert "visible@example.jp" not in content
    assert 'name="phone"' not in content


@pytest.mark.django_db
def test_superuser_sees_the_phone_on_the_change_page(admin_client):
    # given
    member = MemberFactory(phone="090-1234-5678")

    # when
    response = admin_client.get(change_url(member))

    # then
    assert "090-1234-5678" in response.content.decode()


@pytest.mark.django_db
def test_staff_without_personal_data_permission_can_edit_attributes_without_erasing_personal_data(operator_client):
    # given
    member = MemberFactory(phone="090-1234-5678", postal_code="100-0001", terms_version="2024-04")
    page = operator_client.get(change_url(member), {"edit": 1})
    data = {
        "gender": "male",
        "birth_year": "1980",
        "birth_month": "3",
        "postal_code": "5300001",
        "terms_version": "2024-04",
        **inline_management_data(page),
    }

    # when
    response = operator_client.post(change_url(member), data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.postal_code == "530-0001"
    assert member.phone == "090-1234-5678"
    assert member.phone_bidx == personal_data_indexes({"phone": "09012345678"})["phone_bidx"]


# --- Actions --------------------------------------------------------------


@pytest.mark.django_db
def test_suspend_action_suspends_active_members_and_records_it_without_personal_data(admin_client):
    # given
    active = MemberFactory(name="高橋 美咲")
    provisional = ProvisionalMemberFactory()

    # when
    response = admin_client.post(
        CHANGELIST, {"action": "suspend_members", ACTION_CHECKBOX_NAME: [active.pk, provisional.pk]}, follow=True
    )

    # then
    active.refresh_from_db()
    provisional.refresh_from_db()
    assert active.status == Member.Status.SUSPENDED
    assert provisional.status == Member.Status.UNREGISTERED
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 2
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACTION)
    assert event.object_id == str(active.pk)
    assert "高橋" not in f"{event.summary} {event.detail} {event.object_repr}"


@pytest.mark.django_db
def test_reinstate_action_reactivates_a_suspended_member(admin_client):
    # given
    member = MemberFactory(status=Member.Status.SUSPENDED)

    # when
    admin_client.post(CHANGELIST, {"action": "reinstate_members", ACTION_CHECKBOX_NAME: [member.pk]})

    # then
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


# --- Attaching a card -----------------------------------------------------


@pytest.mark.django_db
def test_attach_card_gives_the_member_a_new_card(admin_client, superuser):
    # given
    member = MemberFactory()

    # when
    response = admin_client.post(
        attach_url(member), {"card_type": Card.CardType.TRANSIT_IC, "number": "01234567 89abcdef"}
    )

    # then
    assert response.status_code == 302
    card = member.cards.get()
    assert card.number == "0123456789ABCDEF"
    assert card.number_last4 == "CDEF"
    assert card.events.get().staff == superuser
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACTION, object_id=str(member.pk)).exists()


@pytest.mark.django_db
def test_attach_card_refuses_the_card_of_a_provisional_member_and_points_to_merging(admin_client):
    # given a card first seen at a till, then brought to the desk by a registered member
    member = MemberFactory()
    card = CardFactory(member=ProvisionalMemberFactory(), number="1234567890123456")

    # when
    response = admin_client.post(attach_url(member), {"card_type": Card.CardType.PROGRAMME, "number": card.number})

    # then
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["number"])
    assert card.member.pseudonym in errors
    assert "会員統合" in errors  # points the user to the merge function
    card.refresh_from_db()
    assert card.member_id != member.pk
    assert not member.cards.exists()
    assert CardEvent.objects.count() == 1


@pytest.mark.django_db
def test_attach_card_refuses_a_malformed_number(admin_client):
    # given
    member = MemberFactory()

    # when
    response = admin_client.post(attach_url(member), {"card_type": Card.CardType.PROGRAMME, "number": "12345"})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["number"]
    assert not Card.objects.exists()


@pytest.mark.django_db
def test_the_change_page_links_to_attaching_a_card(admin_client):
    # given
    member = MemberFactory()

    # when
    response = admin_client.get(change_url(member))

    # then
    assert attach_url(member) in response.content.decode()


@pytest.mark.django_db
def test_staff_who_may_not_add_cards_cannot_attach_one(client, db):
    # given staff who may only look at members
    from members.tests.conftest import _user_with

    client.force_login(_user_with("view_member", "change_member", username="viewer"))
    member = MemberFactory()

    # when
    response = client.post(attach_url(member), {"card_type": Card.CardType.PROGRAMME, "number": "1234567890123456"})

    # then
    assert response.status_code == 403
    assert not Card.objects.exists()


@pytest.mark.django_db
def test_a_withdrawn_member_is_read_only(admin_client):
    # given
    member = ProvisionalMemberFactory(status=Member.Status.WITHDRAWN)

    # when
    page = admin_client.get(change_url(member), {"edit": 1})
    response = admin_client.post(change_url(member), {**member_form_data(), **inline_management_data(page)})

    # then
    assert page.status_code == 200
    assert 'name="terms_version"' not in page.content.decode()
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.name == ""


@pytest.mark.django_db
def test_member_autocomplete_searches_by_phone(admin_client):
    # given
    member = MemberFactory(phone="090-1111-2222")
    MemberFactory()

    # when
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "members", "model_name": "card", "field_name": "member", "term": "09011112222"},
    )

    # then
    assert [result["text"] for result in response.json()["results"]] == [member.pseudonym]
