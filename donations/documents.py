"""The donations' PDFs, in Japanese whatever the staff's language, with the programme's secretariat as
sender (`Programme.secretariat_*`) and the shared font and table style of common/pdf.py:

- the notice (寄付金のお知らせ) each organisation gets with its monthly settlement;
- a member's record of their donations (ポイント寄付の記録), which the member site serves.

The record names the member by member id only, so a copy left on a counter gives nobody personal data.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from common import formatting
from common.pdf import FONT_NAME, GRID, SHADE, grid_commands, markup, number_text, pdf_table, register_font, yen_text
from donations.selectors import donations_of_member
from points.models import Programme

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
ACCOUNT_TYPE_TEXT = {"ordinary": "普通", "current": "当座"}


def _style(name: str, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, **{"fontName": FONT_NAME, "fontSize": 10, "leading": 15, "wordWrap": "CJK", **extra})


TITLE = _style("title", fontSize=16, leading=24, alignment=TA_CENTER)
BODY = _style("body")
HEADING = _style("heading", fontSize=12, leading=18)
RIGHT = _style("right", alignment=TA_RIGHT)
SMALL = _style("small", fontSize=8, leading=11)
SMALL_RIGHT = _style("small_right", fontSize=8, leading=11, alignment=TA_RIGHT)


@dataclass(frozen=True)
class Sender:
    name: str
    contact: str


def sender_of(programme: Programme) -> Sender:
    """The programme's secretariat, as it names itself on its invoices and slips."""
    contact = "　".join(
        part
        for part in (
            f"〒{programme.secretariat_postal_code}" if programme.secretariat_postal_code else "",
            programme.secretariat_address,
            f"TEL {programme.secretariat_phone}" if programme.secretariat_phone else "",
        )
        if part
    )
    return Sender(programme.issuer_name, contact)


def _sender_block(sender: Sender, issued_on: datetime.date) -> list:
    block = [Paragraph(f"発行日　{formatting.date_text(issued_on)}", RIGHT), Paragraph(markup(sender.name), RIGHT)]
    if sender.contact:
        block.append(Paragraph(markup(sender.contact), SMALL_RIGHT))
    return block


def _facts_table(rows: list[list]) -> Table:
    commands = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (0, -1), SHADE)]
    return pdf_table(rows, [40 * mm, FRAME_WIDTH - 40 * mm], commands)


def _build(flowables: list, *, title: str, author: str) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=author,
        creator="loyalty donations",
        lang="ja-JP",
        initialFontName=FONT_NAME,
    )
    template.build(flowables)
    return buffer.getvalue()


# --- the organisation's notice --------------------------------------------------------------------


def render_notice_pdf(settlement) -> bytes:
    """The notice of a settlement: what the members gave the organisation in the month, and where it is
    paid."""
    # Before any Paragraph: the font must be known when the text is parsed.
    register_font()
    organisation = settlement.organisation
    programme = organisation.programme
    sender = sender_of(programme)
    first = timezone.localdate(settlement.starts_at)
    last = timezone.localdate(settlement.ends_at) - datetime.timedelta(days=1)
    account = "　".join(
        part
        for part in (
            organisation.bank_name_kana or f"銀行コード {organisation.bank_code}",
            organisation.branch_name_kana or f"支店コード {organisation.branch_code}",
            ACCOUNT_TYPE_TEXT.get(organisation.account_type, organisation.account_type),
            organisation.account_number,
            organisation.account_holder_kana,
        )
        if part
    )
    rows = [
        ["対象期間", f"{settlement.label}（{formatting.date_text(first)}〜{formatting.date_text(last)}）"],
        ["寄付件数", f"{number_text(settlement.donation_count)} 件"],
        ["寄付ポイント", f"{number_text(settlement.total_points)} pt"],
        ["寄付金額", f"{yen_text(settlement.total_yen)}（1ポイント＝1円）"],
        ["お振込先", Paragraph(markup(account), BODY)],
        ["精算番号", str(settlement.pk)],
    ]
    flowables = [
        Paragraph("ポイント寄付金のお知らせ", TITLE),
        Spacer(0, 4 * mm),
        Paragraph(f"{markup(organisation.name)}　御中", HEADING),
        Spacer(0, 2 * mm),
        *_sender_block(sender, timezone.localdate(settlement.closed_at)),
        Spacer(0, 6 * mm),
        Paragraph(
            f"{markup(programme.name)}の会員の皆さまから、下記のとおりポイントによるご寄付がありましたので、"
            "お知らせいたします。寄付金は下記の口座へお振り込みいたします。",
            BODY,
        ),
        Spacer(0, 4 * mm),
        _facts_table(rows),
        Spacer(0, 6 * mm),
        Paragraph(
            "寄付をされた会員の方のお名前などの個人情報は、お知らせしておりません。ご不明な点は事務局までお問い合わせください。",
            SMALL,
        ),
    ]
    return _build(
        flowables, title=f"ポイント寄付金のお知らせ {settlement.label} {organisation.name}", author=sender.name
    )


# --- the member's record ---------------------------------------------------------------------------


def _record_table(donations: list) -> Table:
    rows: list[list] = [["日付", "寄付先", "ポイント", "金額"]]
    for donation in donations:
        rows.append(
            [
                formatting.date_text(timezone.localdate(donation.created_at)),
                Paragraph(markup(donation.organisation.name), BODY),
                f"{number_text(donation.points)} pt",
                yen_text(donation.yen),
            ]
        )
    rows.append(
        [
            "合計",
            f"{number_text(len(donations))} 件",
            f"{number_text(sum(d.points for d in donations))} pt",
            yen_text(sum(d.yen for d in donations)),
        ]
    )
    commands = [
        *grid_commands(),
        ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
    ]
    widths = [28 * mm, FRAME_WIDTH - 88 * mm, 30 * mm, 30 * mm]
    return pdf_table(rows, widths, commands, repeatRows=1)


def render_record_pdf(*, member, donations: list, issued_on: datetime.date) -> bytes:
    """The member's donations, one section per programme with its secretariat, oldest first."""
    register_font()
    by_programme: dict[int, list] = {}
    programmes: dict[int, Programme] = {}
    for donation in donations:
        programme = donation.organisation.programme
        programmes[programme.pk] = programme
        by_programme.setdefault(programme.pk, []).append(donation)
    flowables = [
        Paragraph("ポイント寄付の記録", TITLE),
        Spacer(0, 4 * mm),
        Paragraph(f"会員番号　{markup(member.pseudonym)}", BODY),
        Paragraph(f"発行日　{formatting.date_text(issued_on)}", BODY),
        Spacer(0, 4 * mm),
    ]
    if not by_programme:
        flowables.append(Paragraph("寄付の記録はありません。", BODY))
    for programme_id, own in by_programme.items():
        sender = sender_of(programmes[programme_id])
        flowables += [
            Paragraph(markup(programmes[programme_id].name), HEADING),
            Paragraph(markup(sender.name), SMALL),
        ]
        if sender.contact:
            flowables.append(Paragraph(markup(sender.contact), SMALL))
        flowables += [Spacer(0, 2 * mm), _record_table(own), Spacer(0, 6 * mm)]
    flowables.append(
        Paragraph(
            "1ポイント＝1円として寄付先へお支払いしています。"
            "本書はポイントによる寄付の記録であり、寄附金控除のための受領証明書ではありません。",
            SMALL,
        )
    )
    author = sender_of(next(iter(programmes.values()))).name if programmes else ""
    return _build(flowables, title="ポイント寄付の記録", author=author)


def donation_record_pdf(*, member) -> bytes:
    """The member's record of their donations as PDF bytes (the member site serves it)."""
    donations = list(donations_of_member(member=member).order_by("created_at", "pk"))
    return render_record_pdf(member=member, donations=donations, issued_on=timezone.localdate())
