"""Two runs of the monthly reports at once, on PostgreSQL with real threads: one report, one mail."""

import datetime

import pytest
from django.core import mail

from analytics.models import MonthlyReport
from analytics.monthly.services import monthly_reports_make
from analytics.tests.helpers import buy, member_card, refresh
from points.tests.test_concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_runs_at_once_make_one_report_and_send_one_mail(settings, tmp_path, programme, store):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.REPORTS_SECRETARIAT_EMAIL = "jimukyoku@example.jp"
    merchant = store.merchant
    merchant.monthly_report, merchant.email = True, "shop@example.jp"
    merchant.save()
    for _n in range(5):
        buy(member_card(), store, datetime.date(2026, 5, 10))
    refresh()

    results = run_at_once(2, lambda i: monthly_reports_make(programme=programme, year=2026, month=5))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert MonthlyReport.objects.count() == 2
    assert sum(r.mailed for r in results) == 2
    assert sorted(tuple(m.to) for m in mail.outbox) == [("jimukyoku@example.jp",), ("shop@example.jp",)]
