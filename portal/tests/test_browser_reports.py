"""A merchant asks for the monthly report and downloads one, in a real browser."""

import shutil
import subprocess
from pathlib import Path

import pytest

from analytics.monthly.services import monthly_report_make
from portal.tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_merchant_asks_for_the_monthly_report_and_downloads_it(page, live_server, programme, store, merchant_user):
    # Given a monthly report of the merchant's stores
    report = monthly_report_make(programme=programme, year=2026, month=5, merchant=store.merchant)

    # When the merchant logs in and opens the monthly reports
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("#nav-reports")
    page.wait_for_url(f"{live_server.url}/portal/reports/")

    # And asks for the report by mail
    page.check("#monthly-report-wanted")
    page.click("#monthly-report-choice button[type=submit]")
    page.wait_for_selector("text=月次レポートをメールでお送りします")
    store.merchant.refresh_from_db()
    assert store.merchant.monthly_report

    # Then the report is listed, and its PDF downloads
    row = page.locator(f"#report-{report.pk}")
    assert "2026年5月" in row.inner_text()
    with page.expect_download() as download_info:
        row.locator("a.pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"{report.filename}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", download.path(), "-"], capture_output=True, text=True, check=True).stdout
    assert "月次レポート" in text and store.merchant.name in text
