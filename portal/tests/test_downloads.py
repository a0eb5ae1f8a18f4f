"""A merchant downloads its issued PDF exactly as stored, and the CSV in UTF-8 (with BOM) or cp932."""

import codecs
import csv
import hashlib
import io
import runpy

import pytest
from django.urls import URLResolver
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern

from billing.models import Statement
from billing.tests.factories import earn, this_period
from portal.tests.conftest import close_and_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(billing_settings, store, card):
    earn(card, store, 150_000)
    period = close_and_send(billing_settings, *this_period(billing_settings))
    return Statement.objects.select_related("file").get(period=period, store=store)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_pdf_download_is_the_stored_document(portal_client, statement):
    # When
    response = portal_client.get(f"/portal/statements/{statement.pk}/pdf")

    # Then
    data = body(response)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{statement.number}.pdf"'
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == statement.file.sha256


@pytest.mark.parametrize(
    ("encoding", "charset", "codec", "filename"),
    [("utf-8", "utf-8", "utf-8-sig", "{}.csv"), ("cp932", "shift_jis", "cp932", "{}-sjis.csv")],
)
def test_csv_download_in_both_encodings(portal_client, statement, store, encoding, charset, codec, filename):
    # When
    response = portal_client.get(f"/portal/statements/{statement.pk}/csv?encoding={encoding}")

    # Then
    assert response.status_code == 200
    assert response["Content-Type"] == f"text/csv; charset={charset}"
    assert response["Content-Disposition"] == f'attachment; filename="{filename.format(statement.number)}"'
    assert response.content.startswith(codecs.BOM_UTF8) == (encoding == "utf-8")
    rows = list(csv.reader(io.StringIO(response.content.decode(codec), newline="")))
    assert rows[0][:3] == ["書類番号", "店舗コード", "店舗名"]
    assert rows[1][:3] == [statement.number, store.code, store.name]
    total = next(row for row in rows if len(row) > 4 and row[4] == "total")
    assert int(total[9]) == statement.net_amount_yen


def test_csv_without_encoding_is_utf8_with_bom(portal_client, statement):
    response = portal_client.get(f"/portal/statements/{statement.pk}/csv")

    assert response.content.startswith(codecs.BOM_UTF8)


def test_csv_in_an_unknown_encoding_is_not_found(portal_client, statement):
    assert portal_client.get(f"/portal/statements/{statement.pk}/csv?encoding=latin-1").status_code == 404


def test_stored_pdfs_have_no_public_address(portal_client, statement):
    # Given the media URL of the stored file (DEBUG is off, as in production)
    url = statement.file.pdf.url

    # When it is asked for directly, even logged in
    # Then nothing answers: PDFs only leave through the portal and the admin
    assert portal_client.get(url).status_code == 404


def test_stored_pdfs_have_no_public_address_even_with_debug_on(settings):
    # Given the project's URLs as a developer's DEBUG server loads them
    settings.DEBUG = True
    urls = runpy.run_path(str(settings.BASE_DIR / "loyalty" / "urls.py"))

    # When a stored PDF's path is resolved
    # Then nothing serves it
    with pytest.raises(Resolver404):
        URLResolver(RegexPattern(r"^/"), urls["urlpatterns"]).resolve(
            "/" + settings.MEDIA_URL.lstrip("/") + "statements/2026/10/x.pdf"
        )
