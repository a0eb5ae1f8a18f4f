"""The monthly report as a PDF: a cover block, then each section's headline figures, charts and tables.

The charts are drawn with reportlab.graphics from the same Chart and Heatmap values the admin's SVG is drawn
from (analytics.charts), not by converting that SVG: no further library, the text stays text in the
embedded IPAex font (the PDF can be searched and read back), and a hidden figure is drawn as a grey stub
with 5名未満 in the legend, as on the screen. A table longer than TABLE_ROWS rows is cut there; the CSV
holds every row."""

from __future__ import annotations

import functools
import io
import math
from decimal import Decimal

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from analytics.charts import COLOURS, Chart, Heatmap
from analytics.monthly.content import MonthlyContent, Section, Table
from common.pdf import FONT_NAME, GRID, grid_commands, markup, pdf_table, register_font
from common.privacy import SMALL_GROUP

MARGIN = 15 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN
CHART_HEIGHT = 62 * mm
TABLE_ROWS = 40
HIDDEN = colors.HexColor("#bbbbbb")


@functools.cache
def _style(name: str) -> ParagraphStyle:
    base = {"fontName": FONT_NAME, "fontSize": 9, "leading": 13, "wordWrap": "CJK"}
    extra = (
        {
            "title": {"fontSize": 18, "leading": 24, "spaceAfter": 2 * mm},
            "heading": {"fontSize": 13, "leading": 18, "spaceBefore": 3 * mm, "spaceAfter": 2 * mm},
            "caption": {"fontSize": 10, "leading": 14, "spaceBefore": 2 * mm, "spaceAfter": 1 * mm},
            "small": {"fontSize": 8, "leading": 11},
        }[name]
        if name != "body"
        else {}
    )
    return ParagraphStyle(name, **{**base, **extra})


def render_monthly_pdf(content: MonthlyContent) -> bytes:
    register_font()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{content.title} {content.period}",
        author=content.owner,
    )
    story = [
        Paragraph(markup(f"{content.title}　{content.owner}"), _style("title")),
        Paragraph(markup(f"{content.programme}　{content.period}"), _style("body")),
        Paragraph(
            markup(_("Figures about one to four members are shown as %(small)s.") % {"small": SMALL_GROUP}),
            _style("small"),
        ),
    ]
    for number, section in enumerate(content.sections):
        if number:
            story.append(PageBreak())
        story += _section(section)
    document.build(story, onFirstPage=_footer(content), onLaterPages=_footer(content))
    return buffer.getvalue()


def _footer(content: MonthlyContent):
    def draw(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT_NAME, 8)
        canvas.drawString(MARGIN, 8 * mm, f"{content.owner}　{content.period}")
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"{document.page}")
        canvas.restoreState()

    return draw


def _section(section: Section) -> list:
    story = [Paragraph(markup(section.title), _style("heading"))]
    if section.summary:
        rows = [[label, value] for label, value in section.summary]
        story.append(
            pdf_table(
                rows,
                [FRAME_WIDTH * 0.6, FRAME_WIDTH * 0.4],
                [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("ALIGN", (1, 0), (1, -1), "RIGHT")],
            )
        )
        story.append(Spacer(0, 3 * mm))
    for chart in section.charts:
        story.append(heatmap_drawing(chart) if isinstance(chart, Heatmap) else chart_drawing(chart))
        story.append(Spacer(0, 3 * mm))
    for note in section.notes:
        story.append(Paragraph(markup(note), _style("small")))
    for table in section.tables:
        story += _table(table)
    return story


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _table(table: Table) -> list:
    header, *rows = table.rows
    shown = rows[:TABLE_ROWS]
    cells = [[Paragraph(markup(str(name)), _style("small")) for name in header]]
    cells += [[_cell(value) for value in row] for row in shown]
    widths = [FRAME_WIDTH / len(header)] * len(header)
    commands = [("FONT", (0, 0), (-1, -1), FONT_NAME, 7), ("ALIGN", (1, 1), (-1, -1), "RIGHT")]
    story = [
        KeepTogether(
            [
                Paragraph(markup(table.caption), _style("caption")),
                pdf_table(cells, widths, grid_commands() + commands, repeatRows=1),
            ]
        )
        if len(shown) < 15
        else Paragraph(markup(table.caption), _style("caption"))
    ]
    if len(shown) >= 15:
        story.append(pdf_table(cells, widths, grid_commands() + commands, repeatRows=1))
    if not rows:
        story.append(Paragraph(markup(_("Nothing in this month.")), _style("small")))
    if len(rows) > TABLE_ROWS:
        story.append(
            Paragraph(
                markup(
                    _("The first %(shown)s of %(rows)s rows; the CSV holds them all.")
                    % {"shown": TABLE_ROWS, "rows": len(rows)}
                ),
                _style("small"),
            )
        )
    return story


# --- the charts ---------------------------------------------------------------------------------------------


def _number(value) -> float | None:
    if value is None or value is SMALL_GROUP or isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float, Decimal)) else None


def _nice_step(span: float) -> float:
    raw = span / 5 or 1
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw)


def _label(text: str) -> str:
    """A day's label without its year ("2026/06/15" → "06/15"): the month is on the cover."""
    return text[5:] if len(text) == 10 and text[4] == "/" else text


def _text(x, y, text, *, size=7, anchor="start", colour=colors.black) -> String:
    return String(x, y, str(text), fontName=FONT_NAME, fontSize=size, textAnchor=anchor, fillColor=colour)


def chart_drawing(chart: Chart, width: float = FRAME_WIDTH, height: float = CHART_HEIGHT) -> Drawing:
    """Bars side by side and lines over them, a y scale, the days below and the legend at the foot."""
    left, right, top, bottom = 48, 6, 20, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    drawing = Drawing(width, height)
    drawing.add(_text(0, height - 11, chart.title, size=10))
    numbers = [n for series in chart.series for n in map(_number, series.values) if n is not None]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    step = _nice_step(high - low)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step or step

    def y_of(value: float) -> float:
        return bottom + (value - low) / (high - low) * plot_h

    tick = low
    while tick <= high + step / 2:
        drawing.add(Line(left, y_of(tick), left + plot_w, y_of(tick), strokeColor=colors.HexColor("#dddddd")))
        drawing.add(_text(left - 3, y_of(tick) - 2.5, f"{tick:,.0f}", anchor="end", size=6))
        tick += step
    if chart.unit:
        drawing.add(_text(left - 3, height - top + 4, chart.unit, anchor="end", size=6))
    count = max(len(chart.labels), 1)
    slot = plot_w / count
    bars = [series for series in chart.series if series.kind == "bar"]
    bar_w = max(0.5, slot * 0.8 / max(len(bars), 1))
    zero = y_of(0.0)
    hidden = False
    for number, series in enumerate(chart.series):
        colour = colors.HexColor(COLOURS[number % len(COLOURS)])
        if series.kind == "bar":
            offset = slot * 0.1 + bars.index(series) * bar_w
            for index, value in enumerate(series.values):
                x = left + index * slot + offset
                if value is SMALL_GROUP:
                    hidden = True
                    drawing.add(Rect(x, zero, bar_w, 4, fillColor=HIDDEN, strokeColor=None))
                    continue
                amount = _number(value)
                if amount is not None:
                    y = y_of(amount)
                    drawing.add(
                        Rect(x, min(y, zero), bar_w, max(abs(y - zero), 0.3), fillColor=colour, strokeColor=None)
                    )
        else:
            points: list[float] = []
            for index, value in enumerate(series.values):
                amount = _number(value)
                hidden = hidden or value is SMALL_GROUP
                if amount is None:
                    if len(points) > 2:
                        drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.2))
                    points = []
                    continue
                points += [left + (index + 0.5) * slot, y_of(amount)]
            if len(points) > 2:
                drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.2))
    drawing.add(Line(left, zero, left + plot_w, zero, strokeColor=colors.HexColor("#555555")))
    every = max(1, math.ceil(count / 31))
    for index, label in enumerate(chart.labels):
        if index % every:
            continue
        group = Group(_text(0, 0, _label(label), size=5.5, anchor="end"))
        group.translate(left + (index + 0.5) * slot + 2, bottom - 3)
        group.rotate(60)
        drawing.add(group)
    _legend(drawing, [(series.name, COLOURS[n % len(COLOURS)]) for n, series in enumerate(chart.series)], hidden)
    return drawing


def _legend(drawing: Drawing, entries: list[tuple[str, str]], hidden: bool) -> None:
    x = 48
    for name, colour in entries:
        drawing.add(Rect(x, 2, 7, 7, fillColor=colors.HexColor(colour), strokeColor=None))
        drawing.add(_text(x + 10, 3, name, size=7))
        x += 18 + 7.5 * len(name)
    if hidden:
        drawing.add(Rect(x, 2, 7, 7, fillColor=HIDDEN, strokeColor=None))
        drawing.add(_text(x + 10, 3, str(SMALL_GROUP), size=7))


def heatmap_drawing(heatmap: Heatmap, width: float = FRAME_WIDTH) -> Drawing:
    """The matrix: rows issued at, columns spent at, each cell shaded by its points."""
    label_w, head_h = 110, 70
    cell = min(22.0, (width - label_w) / max(len(heatmap.columns), 1))
    height = 16 + head_h + cell * len(heatmap.rows) + 16
    drawing = Drawing(width, height)
    drawing.add(_text(0, height - 11, heatmap.title, size=10))
    grid_top = height - 16 - head_h
    drawing.add(_text(0, grid_top + 3, heatmap.row_title, size=7))
    drawing.add(_text(label_w, height - 24, heatmap.column_title, size=7))
    for index, name in enumerate(heatmap.columns):
        group = Group(_text(0, 0, name[:12], size=6))
        group.translate(label_w + (index + 0.5) * cell, grid_top + 3)
        group.rotate(55)
        drawing.add(group)
    numbers = [n for row in heatmap.cells for n in map(_number, row) if n is not None]
    most = max(numbers, default=0) or 1
    hidden = False
    for r, (name, row) in enumerate(zip(heatmap.rows, heatmap.cells, strict=True)):
        y = grid_top - (r + 1) * cell
        drawing.add(_text(label_w - 3, y + cell / 2 - 2, name[:16], size=6, anchor="end"))
        for c, value in enumerate(row):
            x = label_w + c * cell
            if value is SMALL_GROUP:
                hidden = True
                fill = HIDDEN
            else:
                amount = _number(value) or 0
                shade = 0.08 + 0.92 * (amount / most) if amount > 0 else 0
                fill = colors.Color(47 / 255, 109 / 255, 181 / 255, alpha=shade) if shade else colors.white
            drawing.add(Rect(x, y, cell - 1, cell - 1, fillColor=fill, strokeColor=colors.HexColor("#eeeeee")))
    if hidden:
        drawing.add(Rect(label_w, 2, 7, 7, fillColor=HIDDEN, strokeColor=None))
        drawing.add(_text(label_w + 10, 3, str(SMALL_GROUP), size=7))
    return drawing
