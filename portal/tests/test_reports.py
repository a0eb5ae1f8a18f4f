"""The merchant's monthly reports in the portal: its own listed and downloaded, another merchant's and the
secretariat's never; the merchant asks for the report by mail, or stops it, on the same page."""

import pytest

from analytics.tests.helpers import monthly_report_row
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_merchants_own_reports_only(portal_client, merchant, other_merchant, programme):
    own = monthly_report_row(programme, merchant)
    others = monthly_report_row(programme, other_merchant)
    secretariats = monthly_report_row(programme)

    response = portal_client.get("/portal/reports/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "月次レポート" in page and "2026年5月" in page
    assert f"/portal/reports/{own.pk}/pdf" in page and f"/portal/reports/{own.pk}/csv" in page
    assert f"/portal/reports/{others.pk}/" not in page and f"/portal/reports/{secretariats.pk}/" not in page


def test_the_merchant_downloads_its_reports_pdf_and_csv(portal_client, merchant, programme):
    own = monthly_report_row(programme, merchant)

    pdf = portal_client.get(f"/portal/reports/{own.pk}/pdf")
    csv = portal_client.get(f"/portal/reports/{own.pk}/csv")

    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"] and own.filename in pdf["Content-Disposition"]
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")


def test_the_merchant_asks_for_the_report_by_mail_and_stops_it(portal_client, merchant, merchant_user):
    assert not merchant.monthly_report

    response = portal_client.post("/portal/reports/", {"monthly_report": "on"}, follow=True)
    merchant.refresh_from_db()
    assert merchant.monthly_report
    assert "月次レポートをメールでお送りします" in response.content.decode()

    portal_client.post("/portal/reports/", {})
    merchant.refresh_from_db()
    assert not merchant.monthly_report
    events = AuditEvent.objects.filter(object_type="stores.Merchant", object_id=str(merchant.pk))
    assert events.count() == 2


def test_the_secretariat_sets_the_choice_in_the_merchant_admin(client, secretariat, merchant):
    client.force_login(secretariat)

    page = client.get(f"/admin/stores/merchant/{merchant.pk}/change/").content.decode()

    assert 'name="monthly_report"' in page and "月次レポートのメール送付" in page
