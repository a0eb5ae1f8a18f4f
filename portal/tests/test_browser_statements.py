"""A merchant's monthly errand in a real browser: log in through the portal's form, open the statements,
and download last month's PDF."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from billing.admin.forms import last_ended_period
from billing.models import Statement
from billing.services import period_close, period_send
from billing.tests.factories import make_staff
from portal.tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_merchant_logs_in_and_downloads_last_months_pdf(page, live_server, billing_settings, store, merchant_user):
    # Given last month closed and sent to the merchants
    year, month = last_ended_period(billing_settings, now=timezone.now())
    period = period_close(programme=billing_settings.programme, year=year, month=month).period
    period_send(period=period, staff=make_staff())
    statement = Statement.objects.get(period=period, store=store)

    # When the merchant logs in through the form and opens the statements
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert store.name in page.inner_text(f"#store-{store.pk}")
    page.click("#nav-statements")
    page.wait_for_url(f"{live_server.url}/portal/statements/")

    # Then last month's statement is listed
    row = page.locator(f"#statement-{statement.pk}")
    assert f"{year}年{month}月分" in row.inner_text()
    assert store.name in row.inner_text()

    # When they download its PDF
    with page.expect_download() as download_info:
        row.locator("a.pdf").click()
    download = download_info.value

    # Then it is the issued document of their store
    assert download.suggested_filename == f"{statement.number}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", download.path(), "-"], capture_output=True, text=True, check=True).stdout
    assert store.name in text
