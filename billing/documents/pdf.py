"""The statement as a PDF: an invoice (請求書（適格請求書）) or a payment notice (支払通知書), then its daily detail.

Negative amounts are printed with a leading "△" (Japanese accounting style), everywhere
in the document: in the lines table, the summary box and the daily table. The amount
shown large on page 1 is the absolute value, since its label already says who pays.
"""

from __future__ import annotations

import datetime
import functools
import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from billing.documents.data import StatementDocument
from common.formatting import date_text
from common.pdf import (
    FONT_NAME,
    GRID,
    SHADE,
    WEEKDAYS,
    grid_commands,
    markup,
    number_text,
    pdf_table,
    register_font,
    yen_text,
)

TAX_LABELS = {"taxable_10": "10%", "non_taxable": "不課税"}
DIRECTIONS = ("store_pays", "store_is_paid", "even")

PAGE_WIDTH = A4[0]
MARGIN = 15 * mm
FOOTER_MARGIN = 20 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

# --- Formatting -----------------------------------------------------------------


def period_text(document: StatementDocument) -> str:
    return f"{document.period_label}（{date_text(document.period_start)}～{date_text(document.period_end)}）"


def title_text(document: StatementDocument) -> str:
    return "支払通知書" if document.direction == "store_is_paid" else "請求書（適格請求書）"


def _quantity_text(quantity: int | None, unit: str) -> str:
    return "" if quantity is None else f"{number_text(quantity)} {unit}".rstrip()


# --- Styles -----------------------------------------------------------------------


@functools.cache
def _style(name: str) -> ParagraphStyle:
    base = {"fontName": FONT_NAME, "fontSize": 9, "leading": 13, "wordWrap": "CJK"}
    extra = {
        "title": {"fontSize": 18, "leading": 24, "alignment": TA_CENTER, "spaceAfter": 4 * mm},
        "heading": {"fontSize": 13, "leading": 18, "spaceAfter": 2 * mm},
        "recipient": {"fontSize": 13, "leading": 18},
        "right": {"alignment": TA_RIGHT},
        "small": {"fontSize": 8, "leading": 11},
        "body": {"alignment": TA_LEFT},
        "cell": {"leading": 11},
    }[name]
    return ParagraphStyle(name, **{**base, **extra})


# --- Page 1 -------------------------------------------------------------------------


def _parties(document: StatementDocument) -> Table:
    recipient, issuer = document.recipient, document.issuer
    left = [
        Paragraph(markup(line), _style("body"))
        for line in (f"〒{recipient.postal_code}" if recipient.postal_code else "", recipient.address)
        if line
    ]
    left.append(Paragraph(markup(f"{recipient.name} 御中"), _style("recipient")))
    issuer_lines = [
        issuer.name,
        f"〒{issuer.postal_code}" if issuer.postal_code else "",
        issuer.address,
        f"TEL {issuer.phone}" if issuer.phone else "",
        f"登録番号：{issuer.registration_number}" if issuer.registration_number else "",
    ]
    right: list[Flowable] = [
        Paragraph(markup(f"発行日：{date_text(document.issued_on)}"), _style("right")),
        Paragraph(markup(f"書類番号：{document.number}"), _style("right")),
        Spacer(0, 3 * mm),
        *(Paragraph(markup(line), _style("right")) for line in issuer_lines if line),
    ]
    return pdf_table([[left, right]], [FRAME_WIDTH * 0.55, FRAME_WIDTH * 0.45], [("VALIGN", (0, 0), (-1, -1), "TOP")])


def _key_facts(document: StatementDocument) -> Table:
    pays = document.direction != "store_is_paid"
    rows = [
        ["ご請求金額（税込）" if pays else "お支払金額（税込）", yen_text(abs(document.net_amount_yen))],
        ["お支払期限" if pays else "お支払予定日", date_text(document.due_on)],
        ["対象期間", period_text(document)],
        ["店舗", f"{document.store_code}　{document.store_name}"],
    ]
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("FONT", (0, 0), (0, 0), FONT_NAME, 11),
        ("FONT", (1, 0), (1, 0), FONT_NAME, 16),
        ("BOX", (0, 0), (-1, 0), 1.5, colors.black),
        ("TOPPADDING", (0, 0), (-1, 0), 6),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
    ]
    return pdf_table(rows, [40 * mm, FRAME_WIDTH - 40 * mm], commands, hAlign="LEFT")


def _intro(document: StatementDocument) -> str:
    if document.direction == "store_is_paid":
        return "下記のとおりお支払いいたします。"
    if document.direction == "even":
        return "今回の精算額は0円です。下記のとおりご通知いたします。"
    return "下記のとおりご請求申し上げます。"


def _lines_table(document: StatementDocument) -> Table:
    rows: list[list] = [["内容", "数量", "単価", "金額", "税区分"]]
    for line in document.lines:
        rows.append(
            [
                Paragraph(markup(line.description), _style("cell")),
                _quantity_text(line.quantity, line.unit),
                line.unit_price,
                yen_text(line.amount_yen),
                TAX_LABELS[line.tax],
            ]
        )
    commands = grid_commands() + [("ALIGN", (1, 1), (3, -1), "RIGHT"), ("ALIGN", (4, 1), (4, -1), "CENTER")]
    widths = [FRAME_WIDTH - 80 * mm, 26 * mm, 18 * mm, 24 * mm, 12 * mm]
    return pdf_table(rows, widths, commands, repeatRows=1)


def _summary(document: StatementDocument) -> Table:
    rows: list[list[str]] = []
    for summary in document.tax_summaries:
        rows.append([f"{summary.rate_percent}%対象", yen_text(summary.taxable_amount_yen)])
        rows.append([f"消費税（{summary.rate_percent}%）", yen_text(summary.tax_yen)])
    rows.append(["不課税（ポイント精算）", yen_text(document.non_taxable_total_yen)])
    rows.append(["合計", yen_text(document.net_amount_yen)])
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONT", (0, -1), (-1, -1), FONT_NAME, 11),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
    ]
    return pdf_table(rows, [45 * mm, 35 * mm], commands, hAlign="RIGHT")


def _has_negative(document: StatementDocument) -> bool:
    amounts = [line.amount_yen for line in document.lines] + [document.non_taxable_total_yen, document.net_amount_yen]
    amounts += [value for summary in document.tax_summaries for value in (summary.taxable_amount_yen, summary.tax_yen)]
    return min(amounts) < 0


def _first_page(document: StatementDocument) -> list[Flowable]:
    notes = [document.payment_note, document.rounding_note]
    if _has_negative(document):
        notes.append("金額の△は、事務局からお店様へお支払いする額を表します。")
    return [
        Paragraph(title_text(document), _style("title")),
        _parties(document),
        Spacer(0, 5 * mm),
        Paragraph(_intro(document), _style("body")),
        Spacer(0, 2 * mm),
        _key_facts(document),
        Spacer(0, 6 * mm),
        _lines_table(document),
        Spacer(0, 4 * mm),
        KeepTogether(_summary(document)),  # a totals box split over two pages is unreadable
        Spacer(0, 5 * mm),
        *(Paragraph(markup(note), _style("small")) for note in notes if note),
    ]


# --- Page 2 onwards -------------------------------------------------------------------


def _day_text(day: datetime.date) -> str:
    return f"{day.year}/{day.month:02d}/{day.day:02d}（{WEEKDAYS[day.weekday()]}）"


def _day_totals(document: StatementDocument) -> tuple[int, int, int]:
    days = document.days
    return sum(d.points_issued for d in days), sum(d.points_spent for d in days), sum(d.transactions for d in days)


def _days_table(document: StatementDocument) -> Table:
    rows = [["日付", "発行ポイント", "利用ポイント", "取引件数"]]
    rows += [
        [
            _day_text(day.date),
            number_text(day.points_issued),
            number_text(day.points_spent),
            number_text(day.transactions),
        ]
        for day in document.days
    ]
    rows.append(["合計", *(number_text(total) for total in _day_totals(document))])
    commands = grid_commands() + [
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, -1), (-1, -1), SHADE),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
    ]
    return pdf_table(rows, [45 * mm, 40 * mm, 40 * mm, 30 * mm], commands, repeatRows=1, hAlign="LEFT")


def _detail_pages(document: StatementDocument) -> list[Flowable]:
    flowables: list[Flowable] = [
        Paragraph("利用明細", _style("heading")),
        Paragraph(
            markup(f"対象期間：{period_text(document)}　店舗：{document.store_code}　{document.store_name}"),
            _style("body"),
        ),
        Spacer(0, 4 * mm),
    ]
    if document.days:
        flowables.append(_days_table(document))
    else:
        flowables.append(Paragraph("対象期間中のご利用はありません。", _style("body")))
    if document.adjustments_note:
        flowables += [
            Spacer(0, 6 * mm),
            Paragraph("調整について", _style("heading")),
            Paragraph(markup(document.adjustments_note), _style("body")),
        ]
    return flowables


# --- Canvas -------------------------------------------------------------------------


class _FooterCanvas(Canvas):
    """Holds the pages back until the end, because "page n / N" needs N."""

    def __init__(self, *args, footer: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, len(self._pages))
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        self.saveState()
        self.setFont(FONT_NAME, 8)
        self.setFillColor(colors.HexColor("#555555"))
        y = FOOTER_MARGIN / 2
        self.drawString(MARGIN, y, self._footer)
        self.drawRightString(PAGE_WIDTH - MARGIN, y, f"{number} / {total} ページ")
        self.restoreState()


def _check(document: StatementDocument) -> None:
    # A misspelt code would otherwise print an invoice with the wrong title or a tax column the rules do not know.
    if document.direction not in DIRECTIONS:
        raise ValueError(f"Unknown statement direction {document.direction!r}; expected one of {DIRECTIONS}.")
    unknown = sorted({line.tax for line in document.lines} - TAX_LABELS.keys())
    if unknown:
        raise ValueError(f"Unknown tax code(s) {unknown}; expected one of {sorted(TAX_LABELS)}.")


def render_statement_pdf(document: StatementDocument) -> bytes:
    """The statement as A4 PDF bytes, with IPAexGothic embedded (subset) so that any viewer shows it.

    Raises ValueError for a direction or a line tax code it does not know.
    """
    _check(document)
    register_font()
    buffer = io.BytesIO()
    title = title_text(document)
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=FOOTER_MARGIN,
        title=f"{title} {document.number}",
        author=document.issuer.name,
        subject=f"{document.period_label} {document.store_name}",
        creator="loyalty billing",
        lang="ja-JP",
        # Without this the canvas starts every page in Helvetica, a font the document never uses.
        initialFontName=FONT_NAME,
    )
    flowables = [*_first_page(document), PageBreak(), *_detail_pages(document)]
    footer = f"{document.issuer.name}　{title}　書類番号 {document.number}"
    template.build(flowables, canvasmaker=functools.partial(_FooterCanvas, footer=footer))
    return buffer.getvalue()
