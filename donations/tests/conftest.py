import shutil
import subprocess

import pytest

from billing.tests.factories import BillingSettingsFactory
from donations.tests.factories import OrganisationFactory
from exchange.tests.factories import give_points
from members.tests.factories import MemberFactory

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed (apt-get install poppler-utils)"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billing_settings(programme):
    """The programme's billing settings: month-end close, the secretariat's account and its name."""
    return BillingSettingsFactory(programme=programme)


@pytest.fixture
def organisation(programme, billing_settings):
    return OrganisationFactory(programme=programme, name="ひかり子ども食堂")


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def rich_member(member, programme):
    """A member with 1,000 points."""
    give_points(member, programme, 1_000)
    return member


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext reads it, whitespace runs collapsed."""
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())
