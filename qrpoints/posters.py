"""The posters staff print: an event's, a flyer's and a store's counter code, as an A4 PDF (the Japanese text
and the code, drawn from segno's module matrix) or as the code alone in SVG, for a designer's own layout.

The code holds only the URL (qrpoints.tokens); the points, the period and the cap printed here are read from
the object, as the scan reads them.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from common.formatting import datetime_text
from common.pdf import FONT_NAME, register_font
from points.models import Funder
from qrpoints.models import Flyer, QrEvent, StoreVisitCode
from qrpoints.tokens import qr_url

# Printed posters get scuffed and photographed at an angle: the code survives a quarter of it damaged.
ERROR_LEVEL = "q"
QR_SIZE = 110 * mm
HOW_TO_SCAN = "会員サイトにログインし、スマートフォンのカメラでQRコードを読み取ってください。"


@dataclass(frozen=True)
class Poster:
    """What a poster says, in print order."""

    url: str
    kicker: str
    title: str
    headline: str
    lines: list[str] = field(default_factory=list)
    programme: str = ""
    filename: str = "poster"


def _period(valid_from: datetime.datetime, valid_until: datetime.datetime) -> str:
    # The end is exclusive: the last minute that still takes a scan is printed.
    last = valid_until - datetime.timedelta(minutes=1)
    return f"期間 {datetime_text(valid_from)} 〜 {datetime_text(last)}"


def event_poster(event: QrEvent) -> Poster:
    lines = [_period(event.valid_from, event.valid_until), f"先着 {event.max_claims:,} 名さま・お一人さま1回限り"]
    if event.funder == Funder.STORE and event.store is not None:
        lines.append(f"提供：{event.store.name}")
    lines.append(HOW_TO_SCAN)
    return Poster(
        url=qr_url(event),
        kicker="QRイベントポイント",
        title=event.name,
        headline=f"{event.points:,} ポイントプレゼント",
        lines=lines,
        programme=event.programme.name,
        filename=f"qr-event-{event.pk}",
    )


def flyer_poster(flyer: Flyer) -> Poster:
    stores = "、".join(flyer.stores.order_by("code").values_list("name", flat=True))
    lines = [_period(flyer.valid_from, flyer.valid_until)]
    if flyer.max_claims:
        lines.append(f"先着 {flyer.max_claims:,} 名さま・お一人さま1回限り")
    lines += [
        "このQRコードを読み取ったあと、期間中に対象店舗の店頭QRコードを読み取るとポイントが付与されます。",
        f"対象店舗：{stores}",
        HOW_TO_SCAN,
    ]
    return Poster(
        url=qr_url(flyer),
        kicker="チラシポイント",
        title=flyer.name,
        headline=f"ご来店で {flyer.points:,} ポイント",
        lines=lines,
        programme=flyer.programme.name,
        filename=f"flyer-{flyer.pk}",
    )


def visit_poster(code: StoreVisitCode) -> Poster:
    return Poster(
        url=qr_url(code),
        kicker="来店QRコード",
        title=code.store.name,
        headline="チラシポイントはこちら",
        lines=["チラシのQRコードを読み取った方は、こちらを読み取るとポイントが付与されます。", HOW_TO_SCAN],
        filename=f"store-visit-{code.store.code}",
    )


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL)


def render_poster_svg(poster: Poster) -> bytes:
    """The code alone, as an SVG (one path), titled with the poster's title."""
    buffer = io.BytesIO()
    _qr(poster.url).save(buffer, kind="svg", scale=10, border=4, title=f"{poster.kicker} {poster.title}")
    return buffer.getvalue()


def _draw_qr(pdf: canvas.Canvas, code: segno.QRCode, *, x: float, y: float, size: float) -> None:
    """The code's dark modules as filled rectangles, a run of them in a row as one; (x, y) the bottom left of
    the code itself (the quiet zone is the caller's margin)."""
    rows = list(code.matrix_iter(scale=1, border=0))
    module = size / len(rows)
    for row_number, row in enumerate(rows):
        top = y + size - (row_number + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(x + start * module, top, (column - start) * module, module, stroke=0, fill=1)


def _centred_lines(pdf: canvas.Canvas, text: str, *, y: float, size: float, width: float) -> float:
    """Centre `text` at `y`, wrapped at `width`; returns the y under the last line."""
    line = ""
    for char in text:
        if pdf.stringWidth(line + char, FONT_NAME, size) > width:
            pdf.drawCentredString(A4[0] / 2, y, line)
            y -= size * 1.5
            line = ""
        line += char
    if line:
        pdf.drawCentredString(A4[0] / 2, y, line)
        y -= size * 1.5
    return y


def render_poster_pdf(poster: Poster) -> bytes:
    """An A4 poster: what it is, the title, the points, the period and cap, the code, how to scan."""
    register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{poster.kicker} {poster.title}")
    pdf.setAuthor(poster.programme)
    pdf.setCreator("loyalty qrpoints")
    width, height = A4
    text_width = width - 30 * mm
    y = height - 25 * mm
    if poster.programme:
        pdf.setFont(FONT_NAME, 11)
        pdf.drawCentredString(width / 2, y, poster.programme)
        y -= 12 * mm
    pdf.setFont(FONT_NAME, 16)
    pdf.drawCentredString(width / 2, y, poster.kicker)
    y -= 15 * mm
    pdf.setFont(FONT_NAME, 28)
    y = _centred_lines(pdf, poster.title, y=y, size=28, width=text_width) - 3 * mm
    pdf.setFont(FONT_NAME, 24)
    y = _centred_lines(pdf, poster.headline, y=y, size=24, width=text_width) - 4 * mm
    x = (width - QR_SIZE) / 2
    _draw_qr(pdf, _qr(poster.url), x=x, y=y - QR_SIZE, size=QR_SIZE)
    y -= QR_SIZE + 12 * mm
    pdf.setFont(FONT_NAME, 11)
    for line in poster.lines:
        y = _centred_lines(pdf, line, y=y, size=11, width=text_width) - 1 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
