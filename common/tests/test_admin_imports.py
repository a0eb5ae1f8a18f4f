"""Importing and exporting through the admin, as the secretariat does it."""

import codecs
import datetime
import os
import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from common.tests.conftest import STORE_HEADERS, csv_text
from stores.models import Merchant, Store, Terminal
from stores.tests.factories import MerchantFactory, StoreFactory, TerminalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("common.tests.urls"), pytest.mark.usefixtures("english")]

IMPORT_URL = "/admin/stores/store/import/"
CONFIRM_URL = "/admin/stores/store/process_import/"
EXPORT_URL = "/admin/stores/store/export/"
CSV, XLSX = "0", "1"
UTF8_BOM, CP932 = "0", "1"


def upload(client, url, data: bytes, name="stores.csv", file_format=CSV):
    return client.post(url, {"format": file_format, "import_file": SimpleUploadedFile(name, data)})


def confirm(client, url, dry_run_response):
    return client.post(url, dry_run_response.context["confirm_form"].initial)


def export(client, url, file_format):
    """Post the export form as a browser does: every column ticked."""
    form = client.get(url).context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    return client.post(url, {"format": file_format, "resource": "0", **ticked})


def error_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def stores_csv(rows, headers=STORE_HEADERS) -> str:
    return csv_text(headers, rows)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("cp932"),
    ],
    ids=["utf-8 with BOM", "utf-8 without BOM", "cp932"],
)
def test_stores_csv_in_each_encoding_imports_with_japanese_names_intact(superuser_client, merchant, encode):
    # given
    data = encode(
        stores_csv(
            [
                ["S001", "M001", "ベーカリー山田", "bakery", "123-4567", "100", "2024-04-01"],
                ["S002", "M001", "喫茶　髙橋①", "cafe", "", "200", "2024/4/1"],
            ]
        )
    )

    # when
    dry_run = upload(superuser_client, IMPORT_URL, data)
    confirmed = confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    assert confirmed.status_code == 302
    stores = {store.code: store for store in Store.objects.all()}
    assert stores["S001"].name == "ベーカリー山田"
    assert stores["S001"].merchant == merchant
    assert stores["S002"].name == "喫茶　髙橋①"
    assert stores["S002"].contract_start == datetime.date(2024, 4, 1)
    assert stores["S002"].earn_rate_bp == 200


def test_dry_run_shows_what_would_change_and_writes_nothing(superuser_client, merchant):
    # given
    StoreFactory(code="S001", merchant=merchant, name="旧店名", contract_start=datetime.date(2024, 4, 1))
    data = stores_csv(
        [
            ["S001", "M001", "新店名", "bakery", "", "100", "2024-04-01"],
            ["S002", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"],
        ]
    ).encode()

    # when
    response = upload(superuser_client, IMPORT_URL, data)

    # then
    assert response.status_code == 200
    assert response.context["confirm_form"] is not None
    page = response.content.decode()
    assert "ベーカリー山田" in page
    assert '<del style="background:#ffe6e6;">旧</del><ins style="background:#e6ffe6;">新</ins><span>店名</span>' in page
    assert [row.import_type for row in response.context["result"].rows] == ["update", "new"]
    assert Store.objects.get(code="S001").name == "旧店名"
    assert not Store.objects.filter(code="S002").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_a_stores_file_with_two_bad_rows_of_five_is_rejected_whole(superuser_client, merchant):
    # given
    StoreFactory(code="S001", merchant=merchant, name="旧店名")
    data = stores_csv(
        [
            ["S001", "M001", "新店名", "bakery", "", "100", "2024-04-01"],
            ["S002", "NOSUCH", "八百屋", "greengrocer", "", "100", "2024-04-01"],
            ["S003", "M001", "魚屋", "fishmonger", "", "100", "2024-04-01"],
            ["S004", "M001", "花屋", "florist", "12-34", "100", "2024-04-01"],
            ["S005", "M001", "本屋", "bookshop", "", "100", "2024-04-01"],
        ]
    ).encode("cp932")

    # when
    response = upload(superuser_client, IMPORT_URL, data)

    # then
    assert "confirm_form" not in response.context
    messages = error_messages(response)
    assert "Row 2: merchant: No merchant with merchant code “NOSUCH”." in messages
    assert "Row 4: postal code: A postal code is 7 digits (123-4567)." in messages
    assert not any(message.startswith(("Row 1:", "Row 3:", "Row 5:")) for message in messages)
    assert sorted(row.number for row in response.context["result"].invalid_rows) == [2, 4]
    assert list(Store.objects.values_list("code", "name")) == [("S001", "旧店名")]


def test_a_merchants_file_with_bad_invoice_and_bank_codes_is_rejected_whole(superuser_client):
    # given
    headers = ["code", "name", "invoice_registration_number", "bank_code", "postal_code"]
    data = csv_text(
        headers,
        [
            ["M001", "山田商事", "T1234567890123", "0001", "100-0001"],
            ["M002", "高橋商店", "T123", "0001", ""],
            ["M003", "佐藤製菓", "T2234567890123", "0005", ""],
            ["M004", "鈴木酒店", "T3234567890123", "12", ""],
            ["M005", "田中書店", "", "", ""],
        ],
    ).encode("utf-8-sig")

    # when
    response = upload(superuser_client, "/admin/stores/merchant/import/", data, name="merchants.csv")

    # then
    messages = error_messages(response)
    assert (
        "Row 2: invoice registration number: Enter the invoice registration number as T followed by 13 digits."
        in messages
    )
    assert "Row 4: bank code: A bank code is 4 digits." in messages
    assert not Merchant.objects.exists()


def test_a_row_that_fails_at_confirmation_rolls_back_the_whole_import(superuser_client, merchant):
    # given: a file that passed its dry run, but the merchant went away before confirming
    data = stores_csv(
        [
            ["S001", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"],
            ["S002", "M002", "魚屋", "fishmonger", "", "100", "2024-04-01"],
        ]
    ).encode()
    other = MerchantFactory(code="M002")
    dry_run = upload(superuser_client, IMPORT_URL, data)
    other.delete()

    # when
    response = confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    assert response.status_code == 200
    assert "Row 2: merchant: No merchant with merchant code “M002”." in error_messages(response)
    assert not Store.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_a_key_twice_in_one_file_is_an_error_on_both_rows(superuser_client, merchant):
    # given
    data = stores_csv(
        [
            ["S001", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"],
            ["S002", "M001", "魚屋", "fishmonger", "", "100", "2024-04-01"],
            ["S001", "M001", "花屋", "florist", "", "100", "2024-04-01"],
        ]
    ).encode()

    # when
    response = upload(superuser_client, IMPORT_URL, data)

    # then
    messages = error_messages(response)
    assert "Row 1: store code: Duplicate key S001: also in row 3." in messages
    assert "Row 3: store code: Duplicate key S001: also in row 1." in messages
    assert not Store.objects.exists()


def test_missing_required_columns_are_named(superuser_client, merchant):
    # given
    data = csv_text(["code", "name"], [["S001", "ベーカリー山田"]]).encode()

    # when
    response = upload(superuser_client, IMPORT_URL, data)

    # then
    assert "The file lacks required columns: merchant, category, contract start." in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert not Store.objects.exists()


def test_unknown_columns_are_reported_and_a_terminal_secret_cannot_be_imported(superuser_client):
    # given
    store = StoreFactory(code="S001")
    data = csv_text(["code", "store", "secret_hash"], [["TRM1", store.code, "0" * 64]]).encode()

    # when
    response = upload(superuser_client, "/admin/stores/terminal/import/", data, name="terminals.csv")

    # then
    assert "The file has columns this import does not know: secret_hash." in response.content.decode()
    assert not Terminal.objects.exists()


def test_a_file_in_neither_utf8_nor_cp932_is_refused_with_a_clear_message(superuser_client, merchant):
    # given
    data = stores_csv([["S001", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"]]).encode("utf-16")

    # when
    response = upload(superuser_client, IMPORT_URL, data)

    # then
    assert response.context["form"].errors["import_file"] == ["The file is neither UTF-8 nor Shift_JIS (cp932)."]
    assert not Store.objects.exists()


def test_a_confirmed_import_is_recorded_in_the_audit_trail_with_counts_only(superuser_client, merchant, superuser):
    # given
    StoreFactory(code="S001", merchant=merchant, name="旧店名")
    StoreFactory(code="S003", merchant=merchant, name="そのまま", earn_rate_bp=100)
    data = stores_csv(
        [
            ["S001", "M001", "新店名", "bakery", "", "100", "2024-04-01"],
            ["S002", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"],
            ["S003", "M001", "そのまま", "bakery", "", "100", "2024-04-01"],
        ]
    ).encode()
    dry_run = upload(superuser_client, IMPORT_URL, data)

    # when
    confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.actor == superuser
    assert event.object_type == "stores.Store"
    assert event.summary == "3 rows: 1 new, 1 updated"
    assert event.detail["unchanged"] == 1
    assert "ベーカリー山田" not in str(event.detail)


def test_a_store_suspended_by_import_goes_through_the_suspension_service(superuser_client, merchant):
    # given
    StoreFactory(code="S001", merchant=merchant, contract_start=datetime.date(2024, 4, 1))
    data = csv_text(
        ["code", "merchant", "name", "category", "contract_start", "status"],
        [
            ["S001", "M001", "ベーカリー山田", "bakery", "2024-04-01", "suspended"],
        ],
    ).encode()

    # when
    confirm(superuser_client, CONFIRM_URL, upload(superuser_client, IMPORT_URL, data))

    # then
    assert Store.objects.get(code="S001").status == Store.Status.SUSPENDED
    assert AuditEvent.objects.filter(summary="store suspended").exists()


@pytest.mark.parametrize(("file_format", "decode"), [(UTF8_BOM, "utf-8"), (CP932, "cp932")], ids=["utf-8", "cp932"])
def test_export_in_either_encoding_decodes_to_the_same_text(superuser_client, merchant, superuser, file_format, decode):
    # given
    StoreFactory(code="S001", merchant=merchant, name="ベーカリー山田")

    # when
    response = export(superuser_client, EXPORT_URL, file_format)

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    content = response.content
    if decode == "utf-8":
        assert content.startswith(b"\xef\xbb\xbf")
        text = content[3:].decode("utf-8")
    else:
        text = content.decode("cp932")
    assert text.splitlines()[0] == ",".join(
        [
            "store code",
            "merchant",
            "store name",
            "store name (kana)",
            "category",
            "status",
            "postal code",
            "address",
            "phone",
            "earn rate (basis points)",
            "contract start",
            "contract end",
        ]
    )
    assert text.splitlines()[1].startswith("S001,M001,ベーカリー山田,,bakery,active,")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.summary) == (superuser, "stores.Store", "1 rows")


def test_exported_cells_that_would_run_as_formulas_start_with_an_apostrophe(superuser_client, merchant):
    # given
    names = ['=HYPERLINK("http://evil.example","x")', "+81-3-1234-5678", "-1", "@SUM(A1:A2)"]
    for number, name in enumerate(names):
        StoreFactory(code=f"S00{number}", merchant=merchant, name=name, earn_rate_bp=100)

    # when
    response = export(superuser_client, EXPORT_URL, UTF8_BOM)

    # then
    from common.imports import CSVImport

    rows = CSVImport().create_dataset(response.content).dict
    assert [row["store name"] for row in rows] == ["'" + name for name in names]
    assert {row["earn rate (basis points)"] for row in rows} == {"100"}


def test_an_exported_file_imports_back_unchanged(superuser_client, merchant):
    # given
    StoreFactory(code="S001", merchant=merchant, name="=1+1", phone="+81-3-1234-5678")
    exported = export(superuser_client, EXPORT_URL, CP932).content

    # when
    dry_run = upload(superuser_client, IMPORT_URL, exported)
    confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    assert [row.import_type for row in dry_run.context["result"].rows] == ["skip"]
    store = Store.objects.get()
    assert (store.name, store.phone) == ("=1+1", "+81-3-1234-5678")


def test_xlsx_is_offered_for_export_and_import(superuser_client, merchant):
    # given
    pytest.importorskip("openpyxl")
    StoreFactory(code="S001", merchant=merchant, name="=cmd")
    exported = export(superuser_client, EXPORT_URL, "2").content
    Store.objects.all().delete()

    # when
    dry_run = upload(superuser_client, IMPORT_URL, exported, name="stores.xlsx", file_format=XLSX)
    confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    assert Store.objects.get().name == "=cmd"


def test_terminals_export_never_carries_the_secret(superuser_client):
    # given
    TerminalFactory(code="TRM1", name="", store=StoreFactory(code="S001"), secret_hash="f" * 64)

    # when
    response = export(superuser_client, "/admin/stores/terminal/export/", UTF8_BOM)

    # then
    text = response.content.decode("utf-8-sig")
    assert text.splitlines() == ["terminal code,store,terminal name,serial number,status", "TRM1,S001,,,active"]


def test_confirm_step_temp_file_is_removed(superuser_client, merchant):
    # given
    data = stores_csv([["S001", "M001", "ベーカリー山田", "bakery", "", "100", "2024-04-01"]]).encode()
    dry_run = upload(superuser_client, IMPORT_URL, data)
    path = os.path.join(tempfile.gettempdir(), dry_run.context["confirm_form"].initial["import_file_name"])

    # when
    confirm(superuser_client, CONFIRM_URL, dry_run)

    # then
    assert not os.path.exists(path)
