"""The exchange slip, read back as the member and the secretariat read it: its text through pdftotext, the
font embedded, and the admin serving it only to staff."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from exchange.services import exchange_cancel, exchange_create
from exchange.slip import render_exchange_slip
from exchange.tests.conftest import OPEN
from exchange.tests.factories import ItemFactory, stock
from members.tests.factories import CardFactory

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils is not installed (apt-get install poppler-utils)",
)


def _poppler(tool: str, pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    arguments = [tool, "-layout", str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(arguments, capture_output=True, text=True, check=True).stdout


def slip_text(exchange, tmp_path) -> str:
    """The slip's text with whitespace runs collapsed: -layout spacing depends on the column widths."""
    return " ".join(_poppler("pdftotext", render_exchange_slip(exchange), tmp_path).split())


@pytest.fixture
def exchanged(counter, item, rich_member, staff, programme):
    """Two rice vouchers and a shopping bag, handed over at the secretariat's counter on 1 June 2026."""
    bag = stock(ItemFactory(programme=programme, name="オリジナルエコバッグ", face_value_yen=0, price_points=1_000), 3)
    CardFactory(member=rich_member, number="9000000000004321")
    return exchange_create(
        member=rich_member,
        counter=counter,
        lines=[(item, 2), (bag, 1)],
        staff=staff,
        idempotency_key="slip-1",
        at=OPEN,
    )


@needs_poppler
def test_the_slip_says_what_was_exchanged_by_whom_where_and_when(exchanged, tmp_path):
    text = slip_text(exchanged, tmp_path)

    assert "ポイント交換票" in text
    assert "EX-2026-000001" in text
    assert "2026/06/01（月） 10:00" in text
    assert "事務局窓口" in text
    assert exchanged.member.pseudonym in text
    assert "下4桁 4321" in text
    assert "おこめ券 2 5,400 pt 6,000円" in text
    assert "オリジナルエコバッグ 1 1,000 pt 0円" in text
    assert "合計 3 6,400 pt 6,000円" in text
    assert "交換後のポイント残高 13,600 pt" in text
    assert "受領署名" in text


@needs_poppler
def test_the_slip_names_the_programme_and_the_secretariat(exchanged, programme, tmp_path):
    programme.secretariat_name, programme.secretariat_phone = "駅前商店街振興組合 事務局", "03-1234-5678"
    programme.save()
    exchanged.refresh_from_db()

    text = slip_text(exchanged, tmp_path)

    assert programme.name in text
    assert "駅前商店街振興組合 事務局" in text
    assert "TEL 03-1234-5678" in text


@needs_poppler
def test_the_slip_carries_no_personal_data(exchanged, tmp_path):
    text = slip_text(exchanged, tmp_path)

    member = exchanged.member
    for personal in (member.name, member.phone, member.email):
        assert personal and personal not in text


@needs_poppler
def test_a_slip_printed_again_later_shows_the_balance_of_the_day(exchanged, counter, item, staff, tmp_path):
    exchange_create(
        member=exchanged.member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="slip-2", at=OPEN
    )

    assert "交換後のポイント残高 13,600 pt" in slip_text(exchanged, tmp_path)


@needs_poppler
def test_a_reservation_slip_says_when_to_collect(counter, item, rich_member, staff, tmp_path):
    reserved = exchange_create(
        member=rich_member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="r", at=OPEN, reserve=True
    )

    text = slip_text(reserved, tmp_path)

    assert "ポイント交換予約票" in text
    assert "受取期限 2026/06/10（水）" in text


@needs_poppler
def test_a_cancelled_exchange_slip_says_so(exchanged, staff, tmp_path):
    exchange_cancel(exchange=exchanged, staff=staff, reason="会員の申し出による取消")
    exchanged.refresh_from_db()

    text = slip_text(exchanged, tmp_path)

    assert "取消済" in text and "会員の申し出による取消" in text


@needs_poppler
def test_the_slip_embeds_its_japanese_font(exchanged, tmp_path):
    fonts = _poppler("pdffonts", render_exchange_slip(exchanged), tmp_path)

    assert "IPAexGothic" in fonts
    rows = [line for line in fonts.splitlines() if "IPAexGothic" in line]
    # pdffonts' columns end "emb sub uni object ID": the font itself is embedded, not only mapped.
    assert rows and all(row.split()[-5] == "yes" for row in rows)


def test_the_admin_serves_the_slip_to_staff(client, staff, exchanged):
    client.force_login(staff)

    response = client.get(reverse("admin:exchange_exchange_slip", args=[exchanged.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "EX-2026-000001.pdf" in response["Content-Disposition"]


def test_the_slip_is_not_served_to_a_user_without_permission(client, exchanged):
    from stores.tests.factories import StaffFactory

    client.force_login(StaffFactory(username="nobody"))

    assert client.get(reverse("admin:exchange_exchange_slip", args=[exchanged.pk])).status_code == 403
