"""The posters read back: the PDF's text with pdftotext, the SVG as XML with its one path."""

import datetime
import io
import subprocess
import xml.etree.ElementTree as ET

import pytest
import segno
from django.utils import timezone
from reportlab.lib.pagesizes import A4

from points.models import Funder
from qrpoints.posters import QR_SIZE, event_poster, flyer_poster, render_poster_pdf, render_poster_svg, visit_poster
from qrpoints.services import store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory
from qrpoints.tokens import qr_url

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "poster.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def event(programme, store):
    start = timezone.make_aware(datetime.datetime(2030, 7, 20, 10, 0))
    return QrEventFactory(
        programme=programme,
        name="駅前夏祭り",
        points=1_500,
        valid_from=start,
        valid_until=timezone.make_aware(datetime.datetime(2030, 7, 22, 0, 0)),
        max_claims=2_000,
        funder=Funder.STORE,
        store=store,
    )


def test_the_event_pdf_poster_has_its_title_points_period_and_cap(event, store, tmp_path):
    content = render_poster_pdf(event_poster(event))

    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert "QRイベントポイント" in text
    assert "駅前夏祭り" in text
    assert "1,500 ポイントプレゼント" in text
    # The end is exclusive: the last minute that takes a scan is printed.
    assert "期間 2030/07/20 10:00 〜 2030/07/21 23:59" in text
    assert "先着 2,000 名さま" in text
    assert f"提供：{store.name}" in text
    assert event.programme.name in text


def test_the_flyer_pdf_poster_names_its_stores(programme, store, other_store, tmp_path):
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", points=80, stores=[store, other_store])

    text = pdf_text(render_poster_pdf(flyer_poster(flyer)), tmp_path)

    assert "秋のチラシ" in text and "ご来店で 80 ポイント" in text
    assert store.name in text and other_store.name in text


def test_the_store_visit_pdf_poster_has_the_stores_name(store, tmp_path):
    text = pdf_text(render_poster_pdf(visit_poster(store_visit_code_current(store=store))), tmp_path)

    assert "来店QRコード" in text and store.name in text


def test_the_svg_is_the_code_of_the_url_as_one_path(event):
    content = render_poster_svg(event_poster(event))

    root = ET.fromstring(content)
    assert root.tag == f"{SVG}svg"
    assert "駅前夏祭り" in root.find(f"{SVG}title").text
    (path,) = root.iter(f"{SVG}path")
    # The same modules segno draws for the event's URL, at the same error level: the code holds the URL.
    buffer = io.BytesIO()
    segno.make(qr_url(event), error="q").save(buffer, kind="svg", scale=10, border=4)
    expected = ET.fromstring(buffer.getvalue())
    assert path.get("d") == next(expected.iter(f"{SVG}path")).get("d")


def _grey_image(content: bytes, tmp_path, dpi: int) -> tuple[int, int, bytes]:
    (tmp_path / "poster.pdf").write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", str(tmp_path / "poster.pdf"), str(tmp_path / "page")], check=True
    )
    data = next(tmp_path.glob("page*.pgm")).read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    return int(width), int(height), pixels


def test_the_pdf_posters_code_has_exactly_segnos_modules(event, tmp_path):
    # Given the poster rasterised, and where its code is: centred, QR_SIZE wide
    dpi = 150
    width, _height, pixels = _grey_image(render_poster_pdf(event_poster(event)), tmp_path, dpi)
    matrix = [list(row) for row in segno.make(qr_url(event), error="q").matrix_iter(scale=1, border=0)]
    module = QR_SIZE / len(matrix) * dpi / 72
    left = (A4[0] - QR_SIZE) / 2 * dpi / 72

    def dark(x: float, y: float) -> bool:
        return pixels[int(y) * width + int(x)] < 128

    # When the code's top is found: the first dark run down its first column as tall as a finder pattern
    column = left + module / 2
    y, run = 0, 0
    while run < 6.5 * module:
        run = run + 1 if dark(column, y) else 0
        y += 1
    top = y - run

    # Then every module's centre is dark exactly where segno's matrix has a dark module
    drawn = [
        [int(dark(left + (c + 0.5) * module, top + (r + 0.5) * module)) for c in range(len(matrix))]
        for r in range(len(matrix))
    ]
    assert drawn == matrix
