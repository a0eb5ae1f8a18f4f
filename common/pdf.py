"""What the PDFs share (the statement and invoice in billing, the exchange slip): the embedded Japanese font,
numbers as Japanese accounts print them, and the table style."""

from __future__ import annotations

import threading
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Table, TableStyle

FONT_NAME = "IPAexGothic"
# IPAexGothic ships with the code (its licence beside it), so no system font is needed.
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "ipaexg.ttf"
NEGATIVE_SIGN = "△"
WEEKDAYS = "月火水木金土日"
GRID = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#ececec")

_font_lock = threading.Lock()
_font_registered = False


def register_font() -> None:
    """Register the shipped font once per process; parsing 6 MB of TrueType is not free."""
    global _font_registered
    if _font_registered:
        return
    with _font_lock:
        if not _font_registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
            _font_registered = True


def number_text(value: int) -> str:
    """Thousands separators, negatives with a leading △ (Japanese accounting style): -1234 → "△1,234"."""
    return f"{NEGATIVE_SIGN}{-value:,}" if value < 0 else f"{value:,}"


def yen_text(value: int) -> str:
    """-1234 → "△1,234円"."""
    return number_text(value) + "円"


def markup(text: str) -> str:
    """Free text for a Paragraph, whose XML parser must not trip over "&" or "<" in a store's name."""
    return escape(text).replace("\n", "<br/>")


def pdf_table(rows: list[list], widths: list[float], commands: list[tuple], **kwargs) -> Table:
    """A table in the documents' font and spacing, with the caller's style commands."""
    base = [
        ("FONT", (0, 0), (-1, -1), FONT_NAME, 9),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    table = Table(rows, colWidths=widths, **kwargs)
    table.setStyle(TableStyle(base + commands))
    return table


def grid_commands(header_rows: int = 1) -> list[tuple]:
    """Ruled cells with shaded, centred header rows."""
    return [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE),
        ("ALIGN", (0, 0), (-1, header_rows - 1), "CENTER"),
    ]
