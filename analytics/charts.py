"""Charts as server-rendered SVG: no JavaScript and nothing to build or keep up to date; the same markup
serves the admin, the merchants' portal and a browser test, which reads the drawn bars and labels as
elements. Labels are Japanese text in the IPA font family (the same family as the PDFs), with the system's
Japanese fonts behind it.

A selector describes a chart as data (`Chart`, `Heatmap`); `svg(chart)` draws it. A figure hidden by the
five-member rule (common.privacy.SMALL_GROUP) is drawn as a hatched stub labelled "5名未満", never as a
value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.privacy import SMALL_GROUP

FONT = "'IPAexGothic', 'IPAGothic', 'IPAPGothic', 'Noto Sans CJK JP', sans-serif"
COLOURS = ("#2f6db5", "#e07b39", "#6a9f3a", "#9b59b6", "#c0392b", "#16a085", "#7f8c8d")
WIDTH, HEIGHT = 900, 320
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 40, 70


@dataclass
class Series:
    name: str
    values: list  # numbers, None (nothing to show) or SMALL_GROUP
    kind: str = "bar"  # "bar" or "line"


@dataclass
class Chart:
    title: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    id: str = "chart"
    # The drawing's size in pixels: the reports' full width by default, smaller for the dashboard's.
    width: int = WIDTH
    height: int = HEIGHT


@dataclass
class Heatmap:
    title: str
    rows: list[str]
    columns: list[str]
    cells: list[list]  # rows × columns: numbers, None or SMALL_GROUP
    unit: str = ""
    row_title: str = ""
    column_title: str = ""
    id: str = "heatmap"
    notes: list[str] = field(default_factory=list)


def svg(chart: Chart | Heatmap) -> SafeString:
    return _heatmap(chart) if isinstance(chart, Heatmap) else _chart(chart)


def _text(x, y, content, *, size=12, anchor="start", weight="normal", cls="", rotate=None, fill="#333") -> str:
    transform = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate is not None else ""
    css = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="{fill}"{transform}{css}>{escape(str(content))}</text>'
    )


def _number(value) -> float | None:
    if value is None or value is SMALL_GROUP:
        return None
    return float(value) if isinstance(value, (int, float, Decimal)) else None


def _nice_step(span: float) -> float:
    raw = span / 5 or 1
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw)


def _grouped(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}"


def _open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="analytics-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="font-family: {FONT}; '
        f'max-width: 100%; height: auto">',
        f"<title>{escape(title)}</title>",
        '<defs><pattern id="small-group" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        _text(LEFT, 22, title, size=15, weight="bold", cls="chart-title"),
    ]


def _chart(chart: Chart) -> SafeString:
    width, height = chart.width, chart.height
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    numbers = [n for series in chart.series for n in map(_number, series.values) if n is not None]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    step = _nice_step(high - low)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step or step
    count = max(len(chart.labels), 1)
    slot = plot_w / count

    def y_of(value: float) -> float:
        return TOP + plot_h - (value - low) / (high - low) * plot_h

    parts = _open(chart.id, chart.title, width, height)
    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(LEFT - 6, y + 4, _grouped(tick), size=11, anchor="end", cls="y-tick"))
        tick += step
    if chart.unit:
        parts.append(_text(LEFT - 6, TOP - 8, chart.unit, size=11, anchor="end", cls="y-unit"))
    zero = y_of(0.0)
    parts.append(f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{width - RIGHT}" y2="{zero:.1f}" stroke="#555"/>')

    bars = [series for series in chart.series if series.kind == "bar"]
    bar_w = max(1.0, slot * 0.8 / max(len(bars), 1))
    small_drawn = False
    for number, series in enumerate(chart.series):
        colour = COLOURS[number % len(COLOURS)]
        if series.kind == "bar":
            offset = slot * 0.1 + bars.index(series) * bar_w
            for index, value in enumerate(series.values):
                x = LEFT + index * slot + offset
                if value is SMALL_GROUP:
                    small_drawn = True
                    parts.append(
                        f'<rect class="bar small-group" x="{x:.1f}" y="{zero - 14:.1f}" width="{bar_w:.1f}" '
                        f'height="14" fill="url(#small-group)"><title>{escape(str(SMALL_GROUP))}</title></rect>'
                    )
                    continue
                amount = _number(value)
                if amount is None:
                    continue
                top, bottom = sorted((y_of(amount), zero))
                parts.append(
                    f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
                    f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}">'
                    f"<title>{escape(chart.labels[index])} {escape(series.name)}: {_grouped(amount)}"
                    f"{escape(chart.unit)}</title></rect>"
                )
        else:
            points = []
            for index, value in enumerate(series.values):
                amount = _number(value)
                x = LEFT + (index + 0.5) * slot
                if value is SMALL_GROUP:
                    small_drawn = True
                    parts.append(
                        f'<circle class="small-group" cx="{x:.1f}" cy="{zero:.1f}" r="4" fill="url(#small-group)" '
                        f'stroke="#999"><title>{escape(str(SMALL_GROUP))}</title></circle>'
                    )
                if amount is None:
                    if len(points) > 1:
                        parts.append(_polyline(points, colour))
                    points = []
                    continue
                points.append((x, y_of(amount)))
            if len(points) > 1:
                parts.append(_polyline(points, colour))
            for x, y in points:
                parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')

    # At most 24 labels across the full width, fewer on a smaller drawing.
    every = max(1, math.ceil(count / max(4, 24 * width // WIDTH)))
    for index, label in enumerate(chart.labels):
        if index % every:
            continue
        x = LEFT + (index + 0.5) * slot
        parts.append(_text(x, TOP + plot_h + 14, label, size=11, anchor="end", rotate=-40, cls="x-label"))
    legend = [(series.name, COLOURS[n % len(COLOURS)]) for n, series in enumerate(chart.series)]
    parts += _legend(legend, small_drawn, y=height - 8)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _polyline(points, colour) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="line" points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2"/>'


def _legend(entries: list[tuple[str, str]], small_drawn: bool, *, y: float = HEIGHT - 8) -> list[str]:
    parts, x = [], LEFT
    for name, colour in entries:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, y, name, size=12, cls="legend"))
        x += 24 + 13 * len(name)
    if small_drawn:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="url(#small-group)" stroke="#999"/>')
        parts.append(_text(x + 16, y, SMALL_GROUP, size=12, cls="legend small-group-legend"))
    return parts


def _heatmap(heatmap: Heatmap) -> SafeString:
    label_w, head_h, cell = 150, 110, 34
    width = max(LEFT + 300, label_w + cell * len(heatmap.columns) + RIGHT)
    height = TOP + head_h + cell * len(heatmap.rows) + 40
    numbers = [n for row in heatmap.cells for n in map(_number, row) if n is not None]
    top = max(numbers, default=0) or 1
    parts = _open(heatmap.id, heatmap.title, width, height)
    if heatmap.column_title:
        parts.append(_text(label_w, TOP + 2, heatmap.column_title, size=12, cls="axis-title"))
    if heatmap.row_title:
        parts.append(_text(8, TOP + head_h - 6, heatmap.row_title, size=12, cls="axis-title"))
    for index, name in enumerate(heatmap.columns):
        x = label_w + index * cell + cell / 2
        parts.append(_text(x, TOP + head_h - 6, name, size=11, rotate=-55, cls="column-label"))
    small_drawn = False
    for r, (name, row) in enumerate(zip(heatmap.rows, heatmap.cells, strict=True)):
        y = TOP + head_h + r * cell
        parts.append(_text(label_w - 6, y + cell / 2 + 4, name, size=11, anchor="end", cls="row-label"))
        for c, value in enumerate(row):
            x = label_w + c * cell
            if value is SMALL_GROUP:
                small_drawn = True
                parts.append(
                    f'<rect class="cell small-group" x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                    f'fill="url(#small-group)"><title>{escape(name)} → {escape(heatmap.columns[c])}: '
                    f"{escape(str(SMALL_GROUP))}</title></rect>"
                )
                continue
            amount = _number(value) or 0
            shade = 0.08 + 0.92 * (amount / top) if amount > 0 else 0
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="rgba(47,109,181,{shade:.2f})" stroke="#eee"><title>{escape(name)} → '
                f"{escape(heatmap.columns[c])}: {_grouped(amount)}{escape(heatmap.unit)}</title></rect>"
            )
    legend = [(_("more points"), "rgba(47,109,181,1)"), (_("fewer points"), "rgba(47,109,181,0.2)")]
    parts += _legend(legend, small_drawn, y=height - 10)
    parts.append("</svg>")
    return mark_safe("".join(parts))
