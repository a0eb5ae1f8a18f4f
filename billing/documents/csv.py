"""The statement as CSV: the same lines and totals as the PDF, then the daily table.

Amounts are plain signed integers (no separators, no "△"), so that a spreadsheet can add
them up; positive means the store pays, as in the document.
"""

from __future__ import annotations

import codecs
import csv
import io

from billing.documents.data import StatementDocument
from common.imports.formats import neutralise_formula

ENCODINGS = ("utf-8-sig", "cp932")
TAX_LABELS = {"taxable_10": "10%", "non_taxable": "不課税"}
LINES_HEADER = [
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
DAYS_HEADER = ["日付", "発行ポイント", "利用ポイント", "取引件数"]

Cell = str | int


def _row(
    document: StatementDocument,
    kind: str,
    description: str,
    amount: int,
    *,
    quantity: int | None = None,
    unit: str = "",
    unit_price: str = "",
    tax: str = "",
) -> list[Cell]:
    # The document's columns on every row let CSVs of several stores be concatenated and filtered.
    period = f"{document.period_start.isoformat()}～{document.period_end.isoformat()}"
    texts = [document.number, document.store_code, document.store_name, period, kind, description]
    return [
        *map(neutralise_formula, texts),
        "" if quantity is None else quantity,
        neutralise_formula(unit),
        neutralise_formula(unit_price),
        amount,
        neutralise_formula(tax),
    ]


def _line_rows(document: StatementDocument) -> list[list[Cell]]:
    return [
        _row(
            document,
            line.kind,
            line.description,
            line.amount_yen,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            tax=TAX_LABELS.get(line.tax, line.tax),
        )
        for line in document.lines
    ]


def _total_rows(document: StatementDocument) -> list[list[Cell]]:
    rows = []
    for summary in document.tax_summaries:
        rate = summary.rate_percent
        rows.append(_row(document, f"taxable_{rate}_total", f"{rate}%対象", summary.taxable_amount_yen, tax=f"{rate}%"))
        rows.append(_row(document, f"tax_{rate}", "消費税", summary.tax_yen, tax=f"{rate}%"))
    rows.append(_row(document, "non_taxable_total", "不課税", document.non_taxable_total_yen, tax="不課税"))
    rows.append(_row(document, "total", "合計", document.net_amount_yen))
    return rows


def _day_rows(document: StatementDocument) -> list[list[Cell]]:
    days = document.days
    rows: list[list[Cell]] = [
        [day.date.isoformat(), day.points_issued, day.points_spent, day.transactions] for day in days
    ]
    totals = [sum(d.points_issued for d in days), sum(d.points_spent for d in days), sum(d.transactions for d in days)]
    return [*rows, ["合計", *totals]]


def statement_csv(document: StatementDocument, *, encoding: str = "utf-8-sig") -> bytes:
    """The statement's lines, totals and days as CSV bytes in "utf-8-sig" (UTF-8 with a BOM) or "cp932".

    The BOM is what makes Excel read UTF-8 rather than guess Shift_JIS. In cp932, characters
    it cannot represent (emoji, some kanji variants) become "?" (errors="replace") instead of
    failing the export; the UTF-8 file keeps them. Text cells a spreadsheet would run as a
    formula get a leading apostrophe (common.imports.formats.neutralise_formula).
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"Unsupported CSV encoding {encoding!r}; use one of {', '.join(ENCODINGS)}.")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # "\r\n" line ends, as Excel writes them
    writer.writerow(LINES_HEADER)
    writer.writerows(_line_rows(document))
    writer.writerows(_total_rows(document))
    writer.writerow([])
    writer.writerow(DAYS_HEADER)
    writer.writerows(_day_rows(document))
    text = buffer.getvalue()
    if encoding == "cp932":
        return text.encode("cp932", errors="replace")
    return codecs.BOM_UTF8 + text.encode("utf-8")
