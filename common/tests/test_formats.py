"""Reading CSV in the encodings Japanese offices use, and writing exports that are safe to open."""

import codecs
import random
from types import SimpleNamespace

import pytest
from import_export.fields import Field

from common.imports import (
    CSVExportCP932,
    CSVExportUTF8,
    CSVImport,
    ImportFileError,
    StrictIntegerWidget,
    neutralise_formula,
    restore_neutralised,
)
from common.tests.conftest import csv_text, dataset
from stores.resources import StoreResource

pytestmark = pytest.mark.usefixtures("english")

TEXT = csv_text(["code", "name"], [["S001", "ベーカリー山田"], ["S002", "喫茶①"]])


@pytest.mark.parametrize(
    "data",
    [codecs.BOM_UTF8 + TEXT.encode("utf-8"), TEXT.encode("utf-8"), TEXT.encode("cp932")],
    ids=["utf-8 with BOM", "utf-8 without BOM", "cp932"],
)
def test_csv_import_reads_utf8_with_and_without_bom_and_cp932(data):
    # when
    result = CSVImport().create_dataset(data)

    # then
    assert result.headers == ["code", "name"]
    assert result.dict == [{"code": "S001", "name": "ベーカリー山田"}, {"code": "S002", "name": "喫茶①"}]


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-16"),
        "code,name\r\nS001,Yamada\r\n".encode("utf-16-le"),
        random.Random(7).randbytes(500),
    ],
    ids=["utf-16 with BOM", "utf-16 ascii without BOM", "random bytes"],
)
def test_csv_import_refuses_a_file_that_is_neither_utf8_nor_cp932(data):
    # when / then
    with pytest.raises(ImportFileError, match=r"The file is neither UTF-8 nor Shift_JIS \(cp932\)\."):
        CSVImport().create_dataset(data)


def test_csv_import_refuses_a_row_wider_than_the_header():
    # given
    data = b"code,name\r\nS001,a\r\nS002,b,extra\r\n"

    # when / then
    with pytest.raises(ImportFileError, match=r"Row 2 has more cells \(3\) than the header has columns \(2\)"):
        CSVImport().create_dataset(data)


def test_csv_import_ignores_trailing_empty_lines_and_cells_and_pads_short_rows():
    # when
    result = CSVImport().create_dataset(b"code,name\r\nS001\r\nS002,b,,\r\n,\r\n\r\n")

    # then
    assert result.dict == [{"code": "S001", "name": ""}, {"code": "S002", "name": "b"}]


def test_utf8_export_starts_with_a_bom_and_keeps_every_character():
    # given
    data = dataset(["name"], [["ベーカリー山田"], ["Café 🍞"]])

    # when
    exported = CSVExportUTF8().export_data(data)

    # then
    assert exported.startswith(b"\xef\xbb\xbf")
    assert exported.decode("utf-8-sig") == "name\r\nベーカリー山田\r\nCafé 🍞\r\n"


def test_cp932_export_replaces_what_cp932_cannot_write_instead_of_failing():
    # given
    data = dataset(["name"], [["ベーカリー山田"], ["喫茶①"], ["Bread 🍞"]])

    # when
    exported = CSVExportCP932().export_data(data)

    # then
    assert exported.decode("cp932") == "name\r\nベーカリー山田\r\n喫茶①\r\nBread ?\r\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+81-3-1234-5678", "'+81-3-1234-5678"),
        ("-1", "'-1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("ベーカリー山田", "ベーカリー山田"),
        ("", ""),
    ],
)
def test_formula_cells_get_a_leading_apostrophe_which_import_removes_again(value, expected):
    # when
    neutralised = neutralise_formula(value)

    # then
    assert neutralised == expected
    assert restore_neutralised(neutralised) == value


def test_export_neutralises_text_but_leaves_numbers_alone():
    # given: one text and one integer column holding the same "-1"
    class Probe(StoreResource):
        delta = Field(attribute="delta", column_name="delta", widget=StrictIntegerWidget())
        label = Field(attribute="label", column_name="label")

        class Meta:
            fields = ("delta", "label")
            export_order = fields

    rows = [SimpleNamespace(delta=-1, label="-1"), SimpleNamespace(delta=5, label="@SUM(A1)")]

    # when
    exported = Probe().export(queryset=rows)

    # then
    assert exported.dict == [{"delta": "-1", "label": "'-1"}, {"delta": "5", "label": "'@SUM(A1)"}]
