"""Imports and exports in Japanese, as the secretariat meets them in the admin: column headers, the template CSV,
the messages and the preview."""

import csv
import io
import os
import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from exchange.tests.factories import CounterFactory
from members.models import Member
from members.services import personal_data_indexes
from stores.models import Store
from stores.tests.factories import MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db

BAD_MEMBER_FILE = (
    "会員 ID,状態,氏名,同意した規約バージョン,電話番号,郵便番号\r\n,active,山田 花子,2024-04,12345,ABC\r\n"
)
PHONE_REFUSED = "1 行目：電話番号：電話番号は 10 桁または 11 桁の数字で入力してください（ハイフンの有無は問いません）。"
POSTAL_CODE_REFUSED = "1 行目：郵便番号：郵便番号は 7 桁で入力してください（例：123-4567）。"


def upload(client, model_url: str, text: str, encoding="utf-8-sig"):
    data = SimpleUploadedFile("file.csv", text.encode(encoding), content_type="text/csv")
    return client.post(f"/admin/{model_url}/import/", {"resource": "0", "format": "0", "import_file": data})


def confirm(client, model_url: str, dry_run):
    return client.post(f"/admin/{model_url}/process_import/", dry_run.context["confirm_form"].initial, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def export(client, model_url: str):
    """Post the export form as a browser does: every column ticked, CSV (UTF-8)."""
    form = client.get(f"/admin/{model_url}/export/").context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    return client.post(f"/admin/{model_url}/export/", {"format": "0", "resource": "0", **ticked})


def test_a_member_file_with_japanese_headers_imports(secretariat_client):
    # given the file a secretariat would write, headed in Japanese
    text = (
        "会員 ID,状態,氏名,氏名（フリガナ）,電話番号,郵便番号,同意した規約バージョン,メールマガジン\r\n"
        ",active,山田 花子,ヤマダ ハナコ,090-1234-5678,100-0001,2024-04,1\r\n"
    )

    # when it is uploaded and confirmed
    dry_run = upload(secretariat_client, "members/member", text)
    confirmed = confirm(secretariat_client, "members/member", dry_run)

    # then the member is registered with every column, and the page says so in Japanese
    member = Member.objects.get(**personal_data_indexes({"phone": "09012345678"}))
    assert (member.name, member.name_kana, member.postal_code) == ("山田 花子", "ヤマダ ハナコ", "100-0001")
    assert (member.status, member.terms_version, member.opt_in_mail_magazine) == ("active", "2024-04", True)
    assert "インポートが完了しました（会員）：新規 1 件、更新 0 件、変更なし 0 件。" in messages_of(confirmed)


def test_a_bad_member_file_is_refused_in_the_dry_run_with_its_row_and_columns_in_japanese(secretariat_client):
    # when
    response = upload(secretariat_client, "members/member", BAD_MEMBER_FILE)

    # then nothing can be confirmed, and the table under the form names the columns as the file does
    assert PHONE_REFUSED in messages_of(response)
    assert POSTAL_CODE_REFUSED in messages_of(response)
    assert "confirm_form" not in response.context
    page = response.content.decode()
    assert "取り込めない行があります" in page
    assert '<span class="validation-error-field-label">電話番号</span>' in page
    assert "<th>同意した規約バージョン</th>" in page
    assert not Member.objects.exists()


def test_a_file_changed_after_its_dry_run_is_checked_again_when_confirmed(secretariat_client):
    # given a dry run that passed, and then the uploaded file holding the values the form refuses
    good = BAD_MEMBER_FILE.replace("12345", "090-1234-5678").replace("ABC", "100-0001")
    dry_run = upload(secretariat_client, "members/member", good)
    stored = os.path.join(tempfile.gettempdir(), dry_run.context["confirm_form"].initial["import_file_name"])
    with open(stored, "wb") as file:
        file.write(BAD_MEMBER_FILE.encode("utf-8-sig"))

    # when the import is confirmed
    response = confirm(secretariat_client, "members/member", dry_run)

    # then it is refused whole, in Japanese, and nothing is written, not even the audit event
    messages = messages_of(response)
    assert messages[0].startswith("ファイルに問題があるため、インポートは行われませんでした")
    assert PHONE_REFUSED in messages and POSTAL_CODE_REFUSED in messages
    assert not Member.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_a_store_breaking_the_contract_rules_is_named_by_row_in_japanese(secretariat_client):
    # given
    MerchantFactory(code="M001")
    text = (
        "加盟店コード,事業者,店舗名,業種,付与率（ベーシスポイント）,契約開始日,契約終了日\r\n"
        "S001,M001,ベーカリー山田,bakery,20000,2024-04-01,\r\n"
        "S002,M001,魚屋,fishmonger,100,2024-04-01,2024-03-31\r\n"
    )

    # when
    response = upload(secretariat_client, "stores/store", text, encoding="cp932")

    # then
    messages = messages_of(response)
    assert "1 行目：付与率（ベーシスポイント）は 10,000（100％）以下で入力してください。" in messages
    assert "2 行目：契約終了日は契約開始日より後の日付にしてください。" in messages
    assert not Store.objects.exists()


@pytest.mark.parametrize(
    ("model_url", "first_headers"),
    [
        ("members/member", ["会員 ID", "状態", "氏名", "氏名（フリガナ）"]),
        ("members/card", ["カード種別", "カード番号", "状態", "会員"]),
        ("stores/merchant", ["事業者コード", "事業者名", "事業者名（フリガナ）", "登録番号"]),
        ("stores/store", ["加盟店コード", "事業者", "店舗名", "店舗名（フリガナ）"]),
        ("stores/terminal", ["端末コード", "加盟店", "端末名", "製造番号"]),
    ],
)
def test_each_import_page_lists_its_columns_in_japanese_and_offers_the_template(
    secretariat_client, model_url, first_headers
):
    # when
    page = secretariat_client.get(f"/admin/{model_url}/import/").content.decode()
    template = secretariat_client.get(f"/admin/{model_url}/import-template/")

    # then the page and the template head the columns alike, in Japanese
    assert f"<code>{', '.join(first_headers)}" in page
    assert f'href="/admin/{model_url}/import-template/"' in page
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert template.content.startswith(b"\xef\xbb\xbf")
    assert csv_rows(template.content)[0][: len(first_headers)] == first_headers


def test_the_template_filled_in_imports(secretariat_client):
    # given the stores' template, filled in with one store in its columns' order
    MerchantFactory(code="M001")
    headers = csv_rows(secretariat_client.get("/admin/stores/store/import-template/").content)[0]
    store = {
        "加盟店コード": "S001",
        "事業者": "M001",
        "店舗名": "ベーカリー山田",
        "業種": "bakery",
        "状態": "active",
        "付与率（ベーシスポイント）": "150",
        "契約開始日": "2024/4/1",
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([headers, [store.get(header, "") for header in headers]])

    # when
    dry_run = upload(secretariat_client, "stores/store", out.getvalue(), encoding="cp932")
    confirmed = confirm(secretariat_client, "stores/store", dry_run)

    # then
    assert "<th>付与率（ベーシスポイント）</th>" in dry_run.content.decode()
    assert Store.objects.get(code="S001").earn_rate_bp == 150
    assert "インポートが完了しました（加盟店）：新規 1 件、更新 0 件、変更なし 0 件。" in messages_of(confirmed)


@pytest.mark.parametrize(
    ("model_url", "header"),
    [
        ("stores/store", "加盟店コード,事業者,店舗名,店舗名（フリガナ）,業種,状態,郵便番号,住所,電話番号,"),
        ("members/member", "会員 ID,状態,氏名,氏名（フリガナ）,住所,電話番号,メールアドレス,生年月日,性別,"),
        # An admin without a resource of its own exports through the back-office one too.
        ("exchange/counter", "ID,ポイントプログラム,窓口名,住所,電話番号,表示順,有効"),
    ],
)
def test_exports_are_headed_in_japanese(secretariat_client, model_url, header):
    # given
    StoreFactory()
    Member.objects.create()
    CounterFactory(name="=1+1")

    # when
    response = export(secretariat_client, model_url)

    # then
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").startswith(header)


def test_an_export_without_a_resource_of_its_own_neutralises_formulas(secretariat_client):
    # given
    CounterFactory(name="=1+1")

    # when
    rows = csv_rows(export(secretariat_client, "exchange/counter").content)

    # then
    assert rows[1][2] == "'=1+1"


def test_the_export_page_names_its_columns_in_japanese(secretariat_client):
    # when
    response = secretariat_client.get("/admin/members/member/export/")

    # then
    labels = [str(field.label) for field in response.context["form"].fields.values()][1:5]
    assert labels == ["会員 ID", "状態", "氏名", "氏名（フリガナ）"]
    assert "以下の列をエクスポートします。" in response.content.decode()
