"""The exchange slip (ポイント交換票): an A5 PDF in Japanese that the member signs when taking the goods.

It names the member by member id and the last four digits of their cards only, so that a slip left on the
counter gives nobody personal data. The text is Japanese whatever the staff's language, like the invoices;
the shipped IPAexGothic is embedded through common/pdf.py.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from common import formatting
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
from exchange.models import Exchange
from members.models import Card
from points.models import Entry

PAGE_WIDTH, PAGE_HEIGHT = A5
MARGIN = 12 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
STATUS_TEXT = {
    Exchange.Status.RESERVED: "予約（未受取）",
    Exchange.Status.HANDED_OVER: "引渡済",
    Exchange.Status.CANCELLED: "取消済",
    Exchange.Status.LAPSED: "失効（受取期限切れ）",
}


NOTE = {
    Exchange.Status.RESERVED: "受取の際は、この予約票と会員カードを窓口にお持ちください。",
    Exchange.Status.HANDED_OVER: "上記の商品を受け取りました。",
    Exchange.Status.CANCELLED: "この交換は取り消され、ポイントは元の有効期限のままお戻ししました。",
    Exchange.Status.LAPSED: "受取期限までに受け取られなかったため、この予約は失効し、ポイントをお戻ししました。",
}


@dataclass(frozen=True)
class SlipLine:
    name: str
    quantity: int
    points: int
    face_value_yen: int


@dataclass(frozen=True)
class SlipData:
    programme_name: str
    issuer_name: str
    issuer_contact: str
    serial: str
    status: str
    at: datetime.datetime
    counter_name: str
    member_id: str
    card_last4: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    points: int
    face_value_yen: int
    balance_after: int | None
    collect_by: datetime.date | None
    cancel_reason: str


def balance_after(exchange: Exchange) -> int | None:
    """The member's balance right after the exchange's own entry: the sum of the account's entries up to it.

    Entries of one account are written under its row lock, so their ids follow the order they happened in;
    a slip printed again next month still shows the balance the member had at the desk.
    """
    entry = Entry.objects.filter(pk=exchange.entry_id).only("account_id").first()
    if entry is None:
        return None
    total = Entry.objects.filter(account_id=entry.account_id, pk__lte=entry.pk).aggregate(total=Sum("points"))
    return total["total"] or 0


def _issuer(exchange: Exchange) -> tuple[str, str]:
    # The programme's secretariat, as it names itself on its invoices.
    programme = exchange.programme
    contact = "　".join(
        part
        for part in (
            f"〒{programme.secretariat_postal_code}" if programme.secretariat_postal_code else "",
            programme.secretariat_address,
            f"TEL {programme.secretariat_phone}" if programme.secretariat_phone else "",
        )
        if part
    )
    return programme.issuer_name, contact


def slip_data(exchange: Exchange) -> SlipData:
    issuer_name, issuer_contact = _issuer(exchange)
    cards = Card.objects.filter(member_id=exchange.member_id, status=Card.Status.ACTIVE).order_by("pk")
    lines = tuple(
        SlipLine(line.item.name, line.quantity, line.points, line.face_value_yen)
        for line in exchange.lines.select_related("item").order_by("pk")
    )
    return SlipData(
        programme_name=exchange.programme.name,
        issuer_name=issuer_name,
        issuer_contact=issuer_contact,
        serial=exchange.serial,
        status=exchange.status,
        at=exchange.handed_over_at or exchange.created_at,
        counter_name=exchange.counter.name,
        member_id=exchange.member.pseudonym,
        card_last4=tuple(cards.values_list("number_last4", flat=True)[:3]),
        lines=lines,
        points=exchange.points,
        face_value_yen=exchange.face_value_yen,
        balance_after=balance_after(exchange),
        collect_by=exchange.collect_by,
        cancel_reason=exchange.cancel_reason,
    )


# --- Rendering ----------------------------------------------------------------------


def date_text(day: datetime.date) -> str:
    return f"{formatting.date_text(day)}（{WEEKDAYS[day.weekday()]}）"


def moment_text(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{date_text(local.date())} {local:%H:%M}"


def _style(name: str, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, **{"fontName": FONT_NAME, "fontSize": 9, "leading": 13, "wordWrap": "CJK", **extra})


TITLE = _style("title", fontSize=16, leading=22, alignment=TA_CENTER)
BODY = _style("body")
SMALL = _style("small", fontSize=7.5, leading=10)
RIGHT = _style("right", alignment=TA_RIGHT)


def _title(data: SlipData) -> str:
    return "ポイント交換予約票" if data.status == Exchange.Status.RESERVED else "ポイント交換票"


def _facts(data: SlipData) -> Table:
    rows = [
        ["交換番号", data.serial],
        ["日時", moment_text(data.at)],
        ["窓口", Paragraph(markup(data.counter_name), BODY)],
        ["会員番号", data.member_id],
        ["カード番号", "、".join(f"下4桁 {last4}" for last4 in data.card_last4) or "－"],
        ["状態", STATUS_TEXT.get(data.status, data.status)],
    ]
    if data.status == Exchange.Status.RESERVED and data.collect_by:
        rows.append(["受取期限", date_text(data.collect_by)])
    if data.status == Exchange.Status.CANCELLED and data.cancel_reason:
        rows.append(["取消理由", Paragraph(markup(data.cancel_reason), BODY)])
    commands = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (0, -1), SHADE)]
    return pdf_table(rows, [26 * mm, FRAME_WIDTH - 26 * mm], commands)


def _lines(data: SlipData) -> Table:
    rows: list[list] = [["交換商品", "数量", "ポイント", "額面"]]
    for line in data.lines:
        rows.append(
            [
                Paragraph(markup(line.name), BODY),
                number_text(line.quantity),
                f"{number_text(line.points)} pt",
                yen_text(line.face_value_yen),
            ]
        )
    quantity = sum(line.quantity for line in data.lines)
    rows.append(["合計", number_text(quantity), f"{number_text(data.points)} pt", yen_text(data.face_value_yen)])
    commands = [
        *grid_commands(),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
        ("FONT", (0, -1), (-1, -1), FONT_NAME, 10),
    ]
    widths = [FRAME_WIDTH - 66 * mm, 14 * mm, 26 * mm, 26 * mm]
    return pdf_table(rows, widths, commands, repeatRows=1)


def _balance(data: SlipData) -> Table:
    value = "－" if data.balance_after is None else f"{number_text(data.balance_after)} pt"
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
    ]
    return pdf_table([["交換後のポイント残高", value]], [40 * mm, 30 * mm], commands, hAlign="RIGHT")


def _signature() -> Table:
    rows = [["受領署名", ""], ["", ""]]
    commands = [
        ("BOX", (0, 0), (-1, -1), 1, colors.black),
        ("SPAN", (0, 0), (0, 1)),
        ("LINEAFTER", (0, 0), (0, 1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (0, 1), SHADE),
        ("ALIGN", (0, 0), (0, 1), "CENTER"),
    ]
    return pdf_table(rows, [26 * mm, 70 * mm], commands, rowHeights=[9 * mm, 9 * mm], hAlign="RIGHT")


def render_slip_pdf(data: SlipData) -> bytes:
    """The slip as A5 PDF bytes, with IPAexGothic embedded (subset)."""
    register_font()
    buffer = io.BytesIO()
    title = _title(data)
    template = SimpleDocTemplate(
        buffer,
        pagesize=A5,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{title} {data.serial}",
        author=data.issuer_name,
        creator="loyalty exchange",
        lang="ja-JP",
        initialFontName=FONT_NAME,
    )
    issuer = [Paragraph(markup(data.issuer_name), RIGHT)] if data.issuer_name != data.programme_name else []
    if data.issuer_contact:
        issuer.append(Paragraph(markup(data.issuer_contact), _style("contact", fontSize=7.5, alignment=TA_RIGHT)))
    flowables = [
        Paragraph(title, TITLE),
        Paragraph(markup(data.programme_name), _style("programme", alignment=TA_CENTER)),
        Spacer(0, 2 * mm),
        *issuer,
        Spacer(0, 3 * mm),
        _facts(data),
        Spacer(0, 4 * mm),
        _lines(data),
        Spacer(0, 2 * mm),
        _balance(data),
        Spacer(0, 5 * mm),
        Paragraph(NOTE.get(data.status, ""), BODY),
        Spacer(0, 2 * mm),
        _signature(),
        Spacer(0, 4 * mm),
        Paragraph(
            "交換した商品の返品・換金はできません。ポイントは取消の場合に限り、元の有効期限のままお戻しします。",
            SMALL,
        ),
    ]
    template.build(flowables)
    return buffer.getvalue()


def render_exchange_slip(exchange: Exchange) -> bytes:
    return render_slip_pdf(slip_data(exchange))
