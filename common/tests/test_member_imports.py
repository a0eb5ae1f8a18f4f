"""Members and cards: personal data and card numbers only ever through members.services."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from common.imports import CSVExportCP932, CSVImport, import_problems
from common.tests.conftest import csv_text, dataset
from members.forms import MemberForm
from members.models import Card, CardEvent, Member
from members.resources import CardResource, MemberResource
from members.services import card_create, card_find, member_set_personal_data, personal_data_indexes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MEMBER_HEADERS = [
    "pseudonym",
    "status",
    "name",
    "name_kana",
    "phone",
    "email",
    "birth_date",
    "postal_code",
    "terms_version",
]
IDM = "0123456789ABCDEF"


@pytest.fixture
def staff(django_user_model):
    """Secretariat staff who may change members but not see their personal data."""
    user = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["change_member", "view_member"]))
    return user


def test_an_imported_phone_is_found_by_its_blind_index_and_never_stored_in_clear(superuser):
    # given
    data = dataset(
        MEMBER_HEADERS,
        [
            [
                "",
                "active",
                "山田 太郎",
                "ヤマダ タロウ",
                "090-1234-5678",
                "taro@example.com",
                "1980-05-17",
                "100-0001",
                "2024-04",
            ]
        ],
    )

    # when
    result = MemberResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == []
    member = Member.objects.get(**personal_data_indexes({"phone": "09012345678"}))
    assert (member.name, member.phone, member.birth_date) == ("山田 太郎", "090-1234-5678", datetime.date(1980, 5, 17))
    assert (member.birth_year, member.birth_month) == (1980, 5)
    assert member.registered_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, email, name FROM members_member WHERE id = %s", [member.pk])
        phone, email, name = cursor.fetchone()
    assert "1234" not in phone and "example.com" not in email and "山田" not in name


def test_a_row_with_a_pseudonym_updates_that_member_and_keeps_its_indexes_in_step(superuser):
    # given
    member = member_set_personal_data(member=Member(status=Member.Status.ACTIVE), phone="03-0000-0000", name="旧姓")
    data = dataset(["pseudonym", "phone"], [[member.pseudonym, "090-1234-5678"]])

    # when
    MemberResource(user=superuser).import_data(data)

    # then
    member.refresh_from_db()
    assert member.phone == "090-1234-5678"
    assert member.name == "旧姓"
    assert Member.objects.filter(**personal_data_indexes({"phone": "09012345678"})).get() == member
    assert not Member.objects.filter(**personal_data_indexes({"phone": "0300000000"})).exists()


def test_an_unknown_pseudonym_and_a_bad_email_are_reported_and_nothing_is_imported(superuser):
    # given
    data = dataset(
        ["pseudonym", "name", "email"],
        [["", "山田 花子", "hanako@example.com"], ["MNOSUCH0000", "佐藤", ""], ["", "鈴木", "not-an-address"]],
    )

    # when
    result = MemberResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == [
        "Row 2: member id: No member with id “MNOSUCH0000”; leave it empty to add a member.",
        "Row 3: e-mail: Enter a valid email address.",
    ]
    assert not Member.objects.exists()


def test_withdrawal_is_not_done_by_import(superuser):
    # given
    member = Member.objects.create(status=Member.Status.ACTIVE)
    data = dataset(["pseudonym", "status"], [[member.pseudonym, "withdrawn"]])

    # when
    result = MemberResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == [
        "Row 1: status: Withdrawal erases personal data; it is done in the admin, not by import."
    ]
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_suspension_by_import_goes_through_the_service(superuser):
    # given
    member = Member.objects.create(status=Member.Status.ACTIVE)

    # when
    MemberResource(user=superuser).import_data(dataset(["pseudonym", "status"], [[member.pseudonym, "suspended"]]))

    # then
    member.refresh_from_db()
    assert member.status == Member.Status.SUSPENDED


def test_an_exported_members_file_imports_back_as_unchanged(superuser):
    # given
    member = member_set_personal_data(
        member=Member(
            status=Member.Status.ACTIVE,
            registered_at=timezone.now(),
            gender=Member.Gender.FEMALE,
            birth_year=1990,
            birth_month=1,
        ),
        phone="090-1234-5678",
        name="山田 花子",
        birth_date=datetime.date(1990, 1, 31),
    )
    exported = CSVExportCP932().export_data(MemberResource(user=superuser).export())

    # when
    result = MemberResource(user=superuser).import_data(CSVImport().create_dataset(exported), dry_run=True)

    # then
    assert import_problems(result) == []
    assert [row.import_type for row in result.rows] == ["skip"]
    assert Member.objects.get() == member


def test_personal_data_is_exported_only_to_those_who_may_see_it(superuser, staff):
    # given
    member_set_personal_data(member=Member(status=Member.Status.ACTIVE), phone="090-1234-5678", name="山田 太郎")

    # when
    with_permission = MemberResource(user=superuser).export()
    without = MemberResource(user=staff).export()

    # then
    assert with_permission.dict[0]["phone"] == "090-1234-5678"
    assert with_permission.dict[0]["name"] == "山田 太郎"
    assert "phone" not in without.headers and "name" not in without.headers
    assert "090-1234-5678" not in without.export("csv")
    assert without.headers[:2] == ["member id", "status"]


def test_the_import_preview_masks_personal_data_for_those_who_may_not_see_it(staff):
    # given
    data = dataset(["pseudonym", "name", "postal_code"], [["", "山田 太郎", "100-0001"]])

    # when
    result = MemberResource(user=staff).import_data(data, dry_run=True)

    # then
    preview = " ".join(str(cell) for cell in result.rows[0].diff)
    assert "山田" not in preview
    assert "●●●●" in preview and "100-0001" in preview
    assert not Member.objects.exists()


def test_a_card_is_created_through_card_create_for_the_member_named(superuser):
    # given
    member = Member.objects.create(status=Member.Status.ACTIVE)
    data = dataset(["card_type", "number", "member"], [["transit_ic", "01 23 45 67 89 ab cd ef", member.pseudonym]])

    # when
    result = CardResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == []
    card = card_find(number=IDM)
    assert card.member == member
    assert card.number == IDM and card.number_last4 == "CDEF"
    assert CardEvent.objects.filter(card=card, kind=CardEvent.Kind.CREATED, staff=superuser).exists()


def test_a_card_without_a_member_gets_a_new_unregistered_member(superuser):
    # when
    CardResource(user=superuser).import_data(dataset(["card_type", "number"], [["programme", "1234-5678-9012-3456"]]))

    # then
    card = card_find(number="1234567890123456")
    assert card.member.status == Member.Status.UNREGISTERED


def test_a_card_file_with_a_malformed_idm_is_rejected_with_the_reason(superuser):
    # given
    data = dataset(
        ["card_type", "number"],
        [["transit_ic", IDM], ["transit_ic", "0123456789ABCDEG"], ["suica", "0123456789ABCDEE"]],
    )

    # when
    result = CardResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == [
        "Row 2: card number: A transit IC card IDm is 16 hexadecimal digits.",
        "Row 3: card type: Unknown card type “suica”; use one of: transit_ic, programme, mobile.",
    ]
    assert not Card.objects.exists()
    assert not Member.objects.exists()


def test_the_same_card_twice_in_a_file_is_a_duplicate_however_it_is_written(superuser):
    # given
    data = dataset(["card_type", "number"], [["transit_ic", IDM], ["transit_ic", "01234567-89abcdef"]])

    # when
    result = CardResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == [
        f"Row 1: card number: Duplicate key {IDM}: also in row 2.",
        f"Row 2: card number: Duplicate key {IDM}: also in row 1.",
    ]


def test_an_existing_card_can_be_blocked_but_not_moved_to_another_member(superuser):
    # given
    card = card_create(number=IDM, card_type=Card.CardType.TRANSIT_IC)
    other = Member.objects.create(status=Member.Status.ACTIVE)

    # when
    moved = CardResource(user=superuser).import_data(
        dataset(["card_type", "number", "member"], [["transit_ic", IDM, other.pseudonym]])
    )
    blocked = CardResource(user=superuser).import_data(
        dataset(["card_type", "number", "status"], [["transit_ic", IDM.lower(), "blocked"]])
    )

    # then
    assert import_problems(moved) == [
        "Row 1: member: A card moves to another member by replacement or merge, in the admin."
    ]
    assert import_problems(blocked) == []
    card.refresh_from_db()
    assert (card.status, card.member_id) == (Card.Status.BLOCKED, card.member_id)
    assert CardEvent.objects.filter(card=card, kind=CardEvent.Kind.BLOCKED).exists()


def test_card_export_has_the_number_in_clear_only_for_those_who_may_see_it(superuser, staff):
    # given
    card = card_create(number=IDM, card_type=Card.CardType.TRANSIT_IC)

    # when
    with_permission = CardResource(user=superuser).export()
    without = CardResource(user=staff).export()

    # then
    assert with_permission.headers == ["card type", "card number", "status", "member", "created at"]
    row = with_permission.dict[0]
    assert (row["card type"], row["card number"], row["status"], row["member"]) == (
        "transit_ic",
        IDM,
        "active",
        card.member.pseudonym,
    )
    assert without.headers == ["card type", "status", "member", "created at"]


@pytest.mark.urls("common.tests.urls")
def test_a_member_import_confirmed_in_the_admin_is_audited_without_personal_data(superuser_client, superuser):
    # given
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_text(MEMBER_HEADERS, [["", "active", "山田 太郎", "", "090-1234-5678", "", "", "100-0001", "2024-04"]])
    upload = SimpleUploadedFile("members.csv", data.encode("cp932"))
    dry_run = superuser_client.post("/admin/members/member/import/", {"format": "0", "import_file": upload})

    # when
    superuser_client.post("/admin/members/member/process_import/", dry_run.context["confirm_form"].initial)

    # then
    assert Member.objects.filter(**personal_data_indexes({"phone": "09012345678"})).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert (event.object_type, event.summary, event.actor) == ("members.Member", "1 rows: 1 new, 0 updated", superuser)
    assert "090" not in str(event.detail) and "山田" not in str(event.detail)


@pytest.mark.urls("common.tests.urls")
def test_a_card_file_with_a_malformed_idm_is_rejected_in_the_admin(superuser_client):
    # given
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_text(["card_type", "number"], [["transit_ic", IDM], ["transit_ic", "XYZ"]]).encode()

    # when
    response = superuser_client.post(
        "/admin/members/card/import/", {"format": "0", "import_file": SimpleUploadedFile("cards.csv", data)}
    )

    # then
    messages = [str(message) for message in response.context["messages"]]
    assert "Row 2: card number: A transit IC card IDm is 16 hexadecimal digits." in messages
    assert "confirm_form" not in response.context
    assert not Card.objects.exists()


def test_a_member_file_the_form_would_refuse_is_refused_whole_in_japanese(superuser_client):
    # given a phone and a postal code the member form refuses, and a good row, with Japanese headers
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = "会員 ID,氏名,電話番号,郵便番号\r\n,山田 花子,090-1234-5678,100-0001\r\n,佐藤 一郎,12345,ABC\r\n"
    upload = SimpleUploadedFile("members.csv", text.encode("utf-8-sig"), content_type="text/csv")

    # when the secretariat uploads it for the dry run
    response = superuser_client.post(
        "/admin/members/member/import/",
        {"resource": 0, "format": 0, "import_file": upload},
        HTTP_ACCEPT_LANGUAGE="ja",
    )

    # then both bad values are named by row and column, in Japanese, and nothing is written
    messages = [str(message) for message in response.context["messages"]]
    phone = "電話番号は 10 桁または 11 桁の数字で入力してください（ハイフンの有無は問いません）。"
    assert f"2 行目：電話番号：{phone}" in messages
    assert "2 行目：郵便番号：郵便番号は 7 桁で入力してください（例：123-4567）。" in messages
    assert not Member.objects.exists()


def test_the_template_csv_has_the_import_columns_in_japanese(superuser_client):
    # when
    response = superuser_client.get("/admin/members/member/import-template/", HTTP_ACCEPT_LANGUAGE="ja")

    # then a file Excel opens in Japanese, with the columns of the import
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('member-template.csv"')
    headers = response.content.decode("utf-8-sig").strip().split(",")
    assert headers[:3] == ["会員 ID", "状態", "氏名"]
    assert "郵便番号" in headers and "postal_code" not in headers


def test_the_import_page_offers_the_template(superuser_client):
    page = superuser_client.get("/admin/members/member/import/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'href="/admin/members/member/import-template/"' in page
    assert "テンプレートCSVをダウンロード" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "12345"),
        ("postal_code", "ABC"),
        ("name_kana", "Yamada"),
        ("email", "hanako@"),
        ("name", "山" * 101),
        ("address", "東京都" * 101),
    ],
)
def test_the_import_refuses_what_the_member_form_refuses_with_the_same_message(superuser, field, value):
    # given
    row = {"name": "山田 花子", "terms_version": "2024-04", field: value}
    form = MemberForm(data=row)
    data = dataset(["pseudonym", "status", *row], [["", "active", *row.values()]])

    # when
    result = MemberResource(user=superuser).import_data(data)

    # then
    label = str(Member._meta.get_field(field).verbose_name)
    assert import_problems(result) == [f"Row 1: {label}: {message}" for message in form.errors[field]]
    assert not Member.objects.exists()


def test_a_registration_by_import_asks_for_what_the_form_does(superuser):
    # given a member registered without the terms version, one without a name, and one that stays unregistered
    data = dataset(
        ["pseudonym", "status", "name", "terms_version"],
        [["", "active", "山田 花子", ""], ["", "active", "", "2024-04"], ["", "unregistered", "", ""]],
    )

    # when
    result = MemberResource(user=superuser).import_data(data)

    # then
    assert import_problems(result) == [
        "Row 1: terms version agreed: Enter the terms version the member agreed to.",
        "Row 2: name: Enter the member's name to register them.",
    ]
    assert not Member.objects.exists()


def test_a_file_without_the_name_column_registers_as_the_form_without_personal_data_does(superuser):
    # when
    result = MemberResource(user=superuser).import_data(
        dataset(["pseudonym", "status", "terms_version"], [["", "active", "2024-04"]])
    )

    # then
    assert import_problems(result) == []
    assert Member.objects.get().status == Member.Status.ACTIVE
