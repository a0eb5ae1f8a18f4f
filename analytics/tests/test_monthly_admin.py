"""The monthly reports in the admin: listed with their downloads (through views that check who asks; the
firewall tests walk them for another company's ids), made by hand by the secretariat only."""

from unittest import mock

import pytest

from analytics.tests.helpers import monthly_report_row

pytestmark = pytest.mark.django_db

LIST = "/admin/analytics/monthlyreport/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_secretariat_lists_and_downloads_the_reports(secretariat_client, programme):
    report = monthly_report_row(programme)

    page = secretariat_client.get(LIST).content.decode()
    pdf = secretariat_client.get(f"{LIST}{report.pk}/pdf/")
    csv = secretariat_client.get(f"{LIST}{report.pk}/csv/")

    assert "2026年5月" in page and "事務局" in page and 'id="make-monthly-reports"' in page
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")


def test_auditors_read_and_download_but_make_nothing(auditor_client, programme):
    report = monthly_report_row(programme)

    page = auditor_client.get(LIST).content.decode()

    assert "2026年5月" in page and 'id="make-monthly-reports"' not in page
    assert auditor_client.get(f"{LIST}{report.pk}/pdf/").status_code == 200
    assert auditor_client.get(f"{LIST}make/").status_code == 403
    assert auditor_client.get(f"{LIST}{report.pk}/change/").status_code == 200


def test_an_unknown_report_answers_404(secretariat_client):
    assert secretariat_client.get(f"{LIST}987654/pdf/").status_code == 404


def test_the_secretariat_queues_a_months_reports(secretariat_client, programme):
    with mock.patch("analytics.admin.async_task") as queued:
        response = secretariat_client.post(f"{LIST}make/", {"programme": programme.pk, "month": "2026-05"})

    assert response.status_code == 302
    queued.assert_called_once()
    assert queued.call_args.args == ("analytics.tasks.make_monthly_reports", programme.pk, 2026, 5)


def test_a_month_not_ended_is_refused_on_the_form(secretariat_client, programme):
    with mock.patch("analytics.admin.async_task") as queued:
        response = secretariat_client.post(f"{LIST}make/", {"programme": programme.pk, "month": "2999-01"})

    assert response.status_code == 200 and "その月はまだ終わっていません" in response.content.decode()
    queued.assert_not_called()
