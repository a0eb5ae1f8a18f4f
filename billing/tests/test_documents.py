"""Statement documents, read back as a merchant or a spreadsheet would: the PDF through pdftotext, the CSV parsed.

No database: the renderers take plain dataclasses.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from billing.documents.csv import statement_csv
from billing.documents.data import Day, Line, StatementDocument, TaxSummary, sample_document
from billing.documents.pdf import render_statement_pdf

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils is not installed (apt-get install poppler-utils)",
)


# --- Helpers ------------------------------------------------------------------------


def _poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])], capture_output=True, text=True, check=True
    ).stdout


def _pages(document: StatementDocument, tmp_path: Path) -> list[str]:
    """The text of each page, whitespace runs collapsed: -layout spacing depends on column widths."""
    text = _poppler("pdftotext", render_statement_pdf(document), tmp_path, "-layout")
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


def _text(document: StatementDocument, tmp_path: Path) -> str:
    return " ".join(_pages(document, tmp_path))


def _yen(value: int) -> str:
    return f"{value:,}円"


def _paid_to_store(document: StatementDocument) -> StatementDocument:
    return dataclasses.replace(document, direction="store_is_paid", net_amount_yen=-12_345)


def _long_document() -> StatementDocument:
    document = sample_document()
    days = tuple(
        Day(datetime.date(2026, 10, day), points_issued=1_000 * day, points_spent=700 * day, transactions=day)
        for day in range(1, 32)
    )
    extra = tuple(Line("adjustment", f"調整 その{n}", None, "", "", -100, "taxable_10") for n in range(1, 61))
    return dataclasses.replace(document, days=days, lines=document.lines + extra)


def _csv_rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def _csv_sections(data: bytes, encoding: str = "utf-8-sig") -> tuple[list[list[str]], list[list[str]]]:
    """The lines section and the daily section, each with its header row, split at the blank row."""
    rows = _csv_rows(data, encoding)
    blank = rows.index([])
    return rows[:blank], rows[blank + 1 :]


def _by_description(lines_section: list[list[str]]) -> dict[str, list[str]]:
    header = lines_section[0]
    return {row[header.index("内容")]: row for row in lines_section[1:]}


# --- PDF ----------------------------------------------------------------------------


@needs_poppler
def test_invoice_text_shows_parties_period_and_totals_as_printed(tmp_path):
    # Given the sample October statement of a store that owes money
    document = sample_document()
    (summary,) = document.tax_summaries

    # When it is rendered and read back as text
    text = _text(document, tmp_path)

    # Then whom it concerns, who issues it, for when, and every total are there as printed
    assert document.store_name in text
    assert f"{document.recipient.name} 御中" in text
    assert f"登録番号：{document.issuer.registration_number}" in text
    assert "2026年10月分（2026/10/01～2026/10/31）" in text
    assert f"10%対象 {_yen(summary.taxable_amount_yen)}" in text
    assert f"消費税（10%） {_yen(summary.tax_yen)}" in text
    assert f"不課税（ポイント精算） {_yen(document.non_taxable_total_yen)}" in text
    assert f"合計 {_yen(document.net_amount_yen)}" in text
    assert f"ご請求金額（税込） {_yen(document.net_amount_yen)}" in text


@needs_poppler
def test_negative_amounts_are_printed_with_a_triangle(tmp_path):
    # Given a statement whose point-spending line is owed to the store
    document = sample_document()
    spent = next(line for line in document.lines if line.kind == "points_spent")

    # When it is read back
    text = _text(document, tmp_path)

    # Then the amount carries the accounting △, not a minus sign
    assert f"△{_yen(-spent.amount_yen)}" in text
    assert f"-{_yen(-spent.amount_yen)}" not in text


@needs_poppler
def test_a_document_paying_the_store_is_titled_payment_notice(tmp_path):
    # Given a statement where the secretariat pays the store
    document = _paid_to_store(sample_document())

    # When it is read back
    first_page = _pages(document, tmp_path)[0]

    # Then it is a payment notice for the absolute amount, not an invoice
    assert first_page.startswith("支払通知書")
    assert "適格請求書" not in first_page
    assert "お支払金額（税込） 12,345円" in first_page


@needs_poppler
def test_a_document_the_store_pays_is_titled_qualified_invoice(tmp_path):
    # Given a statement where the store owes money
    document = sample_document()

    # When it is read back
    first_page = _pages(document, tmp_path)[0]

    # Then it is a qualified invoice
    assert first_page.startswith("請求書（適格請求書）")
    assert "支払通知書" not in first_page


@needs_poppler
def test_pdf_metadata_names_the_document_and_its_issuer(tmp_path):
    # Given a payment notice
    document = _paid_to_store(sample_document())

    # When its metadata is read
    info = _poppler("pdfinfo", render_statement_pdf(document), tmp_path)

    # Then title and author say what it is and who issued it
    assert f"支払通知書 {document.number}" in info
    assert document.issuer.name in info


@needs_poppler
def test_font_is_embedded_and_no_standard_font_is_used(tmp_path):
    # Given a rendered invoice
    pdf = render_statement_pdf(sample_document())

    # When its fonts are listed
    listing = _poppler("pdffonts", pdf, tmp_path).splitlines()[2:]

    # Then the shipped TrueType font is embedded, and it is the only font
    assert b"/FontFile2" in pdf and b"IPAexGothic" in pdf
    assert listing and all("IPAexGothic" in row and "TrueType" in row for row in listing)
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in listing)  # embedded, subset, ToUnicode
    assert b"/Helvetica" not in pdf and b"/Type1" not in pdf


@needs_poppler
def test_long_statement_flows_onto_several_pages_with_footer_and_daily_totals(tmp_path):
    # Given a 31-day period and 69 lines, more than one page holds
    document = _long_document()

    # When it is read back page by page
    pages = _pages(document, tmp_path)

    # Then the lines table continues under a repeated header, every page has its number and the
    # document number, and the daily table ends with correct totals
    assert len(pages) >= 3
    assert "内容 数量 単価 金額 税区分" in pages[1]
    for number, page in enumerate(pages, start=1):
        assert f"書類番号 {document.number}" in page
        assert f"{number} / {len(pages)} ページ" in page
    issued, spent, count = sum(range(1, 32)) * 1_000, sum(range(1, 32)) * 700, sum(range(1, 32))
    assert f"合計 {issued:,} {spent:,} {count:,}" in pages[-1]


@needs_poppler
def test_markup_characters_in_free_text_are_printed_verbatim(tmp_path):
    # Given a store name and a note with characters that mean something to the PDF library's markup
    document = dataclasses.replace(sample_document(), store_name="A&B <青果>", adjustments_note="単価<1円&税込の差額")

    # When it is read back
    text = _text(document, tmp_path)

    # Then they are printed as written
    assert "A&B <青果>" in text
    assert "単価<1円&税込の差額" in text


@needs_poppler
def test_statement_without_activity_or_tax_renders(tmp_path):
    # Given an even statement with no day of activity and no taxable line
    document = dataclasses.replace(
        sample_document(),
        direction="even",
        lines=(),
        days=(),
        tax_summaries=(),
        non_taxable_total_yen=0,
        net_amount_yen=0,
        adjustments_note="",
    )

    # When it is read back
    text = _text(document, tmp_path)

    # Then it says so instead of failing
    assert "ご請求金額（税込） 0円" in text
    assert "対象期間中のご利用はありません。" in text


def test_pdf_refuses_an_unknown_direction():
    # Given a direction with a typo, which would otherwise silently print an invoice
    document = dataclasses.replace(sample_document(), direction="store_paid")

    # When / Then
    with pytest.raises(ValueError, match="store_paid"):
        render_statement_pdf(document)


# --- CSV ----------------------------------------------------------------------------


def test_utf8_csv_starts_with_a_bom():
    # Given / When the default export
    data = statement_csv(sample_document())

    # Then Excel can tell it is UTF-8
    assert data.startswith(b"\xef\xbb\xbf")


def test_cp932_csv_has_the_same_rows_as_the_utf8_one():
    # Given a statement whose text cp932 can represent
    document = sample_document()

    # When exported in both encodings
    utf8, cp932 = statement_csv(document), statement_csv(document, encoding="cp932")

    # Then the cp932 file decodes as cp932 into the same rows
    assert not cp932.startswith(b"\xef\xbb\xbf")
    assert _csv_rows(cp932, "cp932") == _csv_rows(utf8, "utf-8-sig")


def test_cp932_csv_replaces_characters_it_cannot_encode():
    # Given a store name with an emoji, which Shift_JIS has no code for
    document = dataclasses.replace(sample_document(), store_name="まるやま🍎青果店")

    # When exported in cp932
    lines, _ = _csv_sections(statement_csv(document, encoding="cp932"), "cp932")

    # Then the character becomes "?" and the export does not fail
    assert lines[1][2] == "まるやま?青果店"


def test_csv_description_starting_with_equals_is_neutralised():
    # Given a line whose description a spreadsheet would run as a formula
    line = Line("adjustment", '=HYPERLINK("http://example.com")', None, "", "", 0, "taxable_10")
    document = dataclasses.replace(sample_document(), lines=(line,))

    # When exported
    lines, _ = _csv_sections(statement_csv(document))

    # Then the cell is text
    assert lines[1][5] == '\'=HYPERLINK("http://example.com")'


def test_csv_negative_amounts_stay_plain_numbers():
    # Given a line the secretariat owes the store
    document = sample_document()
    spent = next(line for line in document.lines if line.kind == "points_spent")

    # When exported
    lines, _ = _csv_sections(statement_csv(document))

    # Then its amount is a signed integer a spreadsheet can add, not a neutralised text
    row = next(row for row in lines if row[4] == "points_spent")
    assert row[9] == str(spent.amount_yen) and row[9].startswith("-")


def test_csv_totals_rows_equal_the_document_figures():
    # Given the sample statement
    document = sample_document()
    (summary,) = document.tax_summaries

    # When exported
    lines, days = _csv_sections(statement_csv(document))

    # Then the totals rows and the daily totals row carry the document's figures
    amount = lines[0].index("金額")
    rows = _by_description(lines)
    assert int(rows["10%対象"][amount]) == summary.taxable_amount_yen
    assert int(rows["消費税"][amount]) == summary.tax_yen
    assert int(rows["不課税"][amount]) == document.non_taxable_total_yen
    assert int(rows["合計"][amount]) == document.net_amount_yen
    assert days[0] == ["日付", "発行ポイント", "利用ポイント", "取引件数"]
    assert days[-1] == [
        "合計",
        str(sum(day.points_issued for day in document.days)),
        str(sum(day.points_spent for day in document.days)),
        str(sum(day.transactions for day in document.days)),
    ]


def test_csv_has_one_row_per_line_under_the_japanese_header():
    # Given the sample statement
    document = sample_document()

    # When exported
    lines, days = _csv_sections(statement_csv(document))

    # Then the header is the Japanese one and each line, then the four totals, follow in order
    assert lines[0] == [
        "書類番号",
        "店舗コード",
        "店舗名",
        "対象期間",
        "区分",
        "内容",
        "数量",
        "単位",
        "単価",
        "金額",
        "税区分",
    ]
    assert [row[4] for row in lines[1:]] == [line.kind for line in document.lines] + [
        "taxable_10_total",
        "tax_10",
        "non_taxable_total",
        "total",
    ]
    assert len(days) == len(document.days) + 2


def test_csv_refuses_an_unknown_encoding():
    with pytest.raises(ValueError, match="utf-16"):
        statement_csv(sample_document(), encoding="utf-16")


def test_sample_document_adds_up():
    # The benchmark and the tests above rely on the sample being a consistent statement.
    document = sample_document()
    taxable = sum(line.amount_yen for line in document.lines if line.tax == "taxable_10")
    non_taxable = sum(line.amount_yen for line in document.lines if line.tax == "non_taxable")
    assert document.tax_summaries == (TaxSummary(10, taxable, taxable // 10),)
    assert document.non_taxable_total_yen == non_taxable
    assert document.net_amount_yen == non_taxable + taxable + taxable // 10
    assert len(document.days) == 25 and document.direction == "store_pays"
