"""The monthly reports: made once per owner and month by the task (twice → once, one mail), the PDF and CSV
read back against the reports' selectors, merchants' reports of their own stores under the five-member rule,
the twelve newest kept, the schedule and the command."""

import csv as csv_module
import datetime
import io
import subprocess

import pytest
from django.core import mail
from django.core.management import call_command
from django_q.models import Schedule

from analytics.models import MonthlyReport
from analytics.monthly import services
from analytics.monthly.services import (
    KEEP,
    MonthlyReportError,
    monthly_report_make,
    monthly_reports_due,
    monthly_reports_make,
)
from analytics.selectors import ReportFilter, points_report
from analytics.tests.helpers import TODAY, buy, member_card, noon, pay, refresh, today_is
from billing.models import Period
from billing.tests.factories import BillingSettingsFactory
from common.formatting import grouped

pytestmark = pytest.mark.django_db

MAY = datetime.date(2026, 5, 10)
MAY_FIRST, MAY_LAST = datetime.date(2026, 5, 1), datetime.date(2026, 5, 31)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.REPORTS_SECRETARIAT_EMAIL = "jimukyoku@example.jp"


@pytest.fixture
def street(programme, store, other_store):
    """Six members buy at the store in May (1,000 yen, 10 points each); five spend 4 points each at the
    other store; one member buys at the other store."""
    cards = [member_card(gender="female", birth_year=1990) for _n in range(6)]
    for card in cards:
        buy(card, store, MAY)
    for card in cards[:5]:
        pay(card, other_store, MAY + datetime.timedelta(days=5), 4)
    buy(member_card(), other_store, MAY + datetime.timedelta(days=6))
    refresh()
    return cards


def make(programme, **kwargs):
    with today_is():
        return monthly_reports_make(programme=programme, year=2026, month=5, today=TODAY, **kwargs)


def pdf_text(report: MonthlyReport) -> str:
    with report.pdf.open("rb") as pdf:
        data = pdf.read()
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def csv_text(report: MonthlyReport) -> str:
    with report.csv.open("rb") as csv:
        data = csv.read()
    assert data.startswith(b"\xef\xbb\xbf")
    return data.decode("utf-8-sig")


def test_the_task_makes_the_secretariats_report_once_and_mails_it_once(programme, street):
    # When the reports are made twice
    first = make(programme)
    second = make(programme)

    # Then one report, one mail, to the secretariat's address, with the PDF attached
    assert MonthlyReport.objects.count() == 1
    (report,) = first.made
    assert second.made == [report]
    assert (first.mailed, second.mailed) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jimukyoku@example.jp"]
    assert "2026年5月" in message.subject and "月次レポート" in message.subject
    assert message.attachments[0][0].endswith(".pdf") and message.attachments[0][1].startswith(b"%PDF")
    assert "/admin/analytics/monthlyreport/" in message.body
    assert report.sent_to == "jimukyoku@example.jp" and report.sent_at is not None
    assert (report.first_day, report.last_day) == (MAY_FIRST, MAY_LAST)


def test_the_pdf_reads_back_in_japanese_with_the_selectors_figures(programme, street):
    (report,) = make(programme).made
    with today_is():
        figures = points_report(
            ReportFilter(start=MAY_FIRST, end=MAY_LAST, programme_ids=frozenset({programme.pk}), by="day"),
            today=MAY_LAST,
        )

    text = pdf_text(report)

    assert "月次レポート" in text
    assert "2026/05/01〜2026/05/31" in text
    for title in ("ポイントの発行・利用・残高", "店舗間の回遊", "会員と来店", "キャンペーン・クーポン・ラリーの効果"):
        assert title in text
    assert figures.total.issued == 70 and figures.total.spent == 20
    assert f"{grouped(figures.total.issued)} pt" in text
    assert f"{grouped(figures.rows[-1].outstanding)} pt" in text


def test_the_csv_reads_back_with_every_table(programme, street):
    (report,) = make(programme).made

    text = csv_text(report)

    assert text.splitlines()[0].startswith("月次レポート,")
    assert "期間,発行ポイント" in text.replace("\r", "")
    # Six members' purchases on the 10th; one member's on the 16th, hidden
    assert "\r\n2026/05/10,60," in text and "\r\n2026/05/16,5名未満," in text
    assert "店舗間の回遊：店舗の組み合わせ別" in text and "会員と来店：来店間隔" in text
    assert "合計" in text


def test_a_merchant_who_asked_gets_its_own_stores_report_under_the_five_member_rule(
    programme, store, other_store, street
):
    # Given the other store's merchant asked for the report, the store's did not
    merchant = other_store.merchant
    merchant.monthly_report = True
    merchant.email = "shop@example.jp"
    merchant.save()

    # When
    run = make(programme)

    # Then the secretariat's and the merchant's, each mailed once
    assert len(run.made) == 2 and run.mailed == 2
    own = MonthlyReport.objects.get(merchant=merchant)
    assert not MonthlyReport.objects.filter(merchant=store.merchant).exists()
    assert {tuple(m.to) for m in mail.outbox} == {("jimukyoku@example.jp",), ("shop@example.jp",)}
    merchant_mail = next(m for m in mail.outbox if m.to == ["shop@example.jp"])
    assert "/portal/reports/" in merchant_mail.body
    text = pdf_text(own)
    # Its store's one purchase is about one member: shown as fewer than five, never as 10 points.
    assert merchant.name in text and "5名未満" in text
    assert store.name in text  # where the points spent with it were issued (five members)
    csv = csv_text(own)
    assert "5名未満" in csv


def test_a_report_made_but_not_mailed_when_the_worker_died_is_mailed_on_the_next_run(programme, street):
    # Given a run that made the report and died before its mail
    with today_is():
        monthly_report_make(programme=programme, year=2026, month=5)
    assert not mail.outbox

    # When the task runs again
    run = make(programme)

    # Then the report is the same and mailed once
    assert MonthlyReport.objects.count() == 1 and run.mailed == 1 and len(mail.outbox) == 1


def test_a_mail_the_backend_refuses_is_tried_again(programme, street, monkeypatch):
    def refuse(self, fail_silently=False):
        raise OSError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    make(programme)
    assert MonthlyReport.objects.get().sent_at is None

    monkeypatch.undo()
    assert make(programme).mailed == 1 and len(mail.outbox) == 1


def test_twelve_reports_are_kept_per_owner_with_their_files(programme, django_capture_on_commit_callbacks):
    # Given thirteen months made
    made = []
    with today_is(datetime.date(2027, 3, 15)), django_capture_on_commit_callbacks(execute=True):
        for offset in range(KEEP + 1):
            year, month = divmod(2026 * 12 + offset, 12)
            made.append(monthly_report_make(programme=programme, year=year, month=month + 1))

    # Then the oldest one is gone with its files
    kept = MonthlyReport.objects.filter(programme=programme)
    assert kept.count() == KEEP
    assert not kept.filter(year=2026, month=1).exists()
    oldest = made[0]
    assert not oldest.pdf.storage.exists(oldest.pdf.name) and not oldest.csv.storage.exists(oldest.csv.name)
    assert made[-1].pdf.storage.exists(made[-1].pdf.name)


def test_a_month_that_has_not_ended_is_refused(programme):
    with pytest.raises(MonthlyReportError):
        monthly_reports_make(programme=programme, year=2026, month=6, today=TODAY)


def test_a_billed_programme_is_due_once_its_period_is_closed(programme):
    settings = BillingSettingsFactory(programme=programme)
    now = noon(datetime.date(2026, 6, 1), 1)

    assert monthly_reports_due(now=now) == []

    Period.objects.create(
        programme=programme,
        year=2026,
        month=5,
        starts_at=noon(MAY_FIRST, 0),
        ends_at=noon(datetime.date(2026, 6, 1), 0),
        status=Period.Status.CLOSED,
    )
    assert monthly_reports_due(now=now) == [(programme, 2026, 5)]
    assert settings.closing_day == 0


def test_a_programme_without_billing_is_due_when_its_month_has_ended(programme):
    assert monthly_reports_due(now=noon(datetime.date(2026, 6, 1), 1)) == [(programme, 2026, 5)]


def test_the_nightly_schedule_exists():
    schedule = Schedule.objects.get(name="make-monthly-reports")
    assert schedule.func == "analytics.tasks.make_due_monthly_reports"
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    assert schedule.next_run.astimezone(services.timezone.get_default_timezone()).time() == datetime.time(1, 0)


def test_the_nightly_task_makes_the_due_reports(programme, street):
    from analytics.tasks import make_due_monthly_reports

    with today_is(datetime.date(2026, 6, 1)):
        assert "1 reports, 1 mailed" in make_due_monthly_reports()
        make_due_monthly_reports()
    assert MonthlyReport.objects.count() == 1 and len(mail.outbox) == 1


def test_the_command_makes_a_months_reports_by_hand(programme, street, capsys):
    with today_is():
        call_command("make_monthly_reports", "2026-05", "--programme", programme.code, "--no-mail")

    assert MonthlyReport.objects.filter(programme=programme, year=2026, month=5).count() == 1
    assert not mail.outbox
    assert "1 reports, 0 mailed" in capsys.readouterr().out


def test_a_merchants_outstanding_points_held_by_fewer_than_five_members_are_hidden(programme, other_store, street):
    # Given the other store issued points to one member only
    merchant = other_store.merchant
    merchant.monthly_report = True
    merchant.save()

    make(programme)

    # Then its report's points table shows the outstanding points and liability as 5名未満, never a figure
    rows = list(csv_module.reader(io.StringIO(csv_text(MonthlyReport.objects.get(merchant=merchant)))))
    header = next(row for row in rows if row and row[0] == "対象期間" and "期末の未使用ポイント" in row)
    total = next(row for row in rows[rows.index(header) :] if row and row[0] == "合計")
    assert total[header.index("期末の未使用ポイント")] == "5名未満"
    assert total[header.index("負債額（円）")] == "5名未満"
    assert total[header.index("発行ポイント")] == "5名未満"
