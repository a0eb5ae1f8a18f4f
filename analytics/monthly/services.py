"""Making, mailing and pruning the monthly reports.

A report is made once per owner (the programme's secretariat, or a merchant who asked for it) and month:
making it again returns the one made. Its mail is claimed before it is handed over (`sent_at` set where it
is still empty), so a second run, or a run after a worker died between making and sending, mails nobody
twice; a mail the backend refuses gives its claim back and is tried again on the next run. The month is the
programme's billing period (by its closing day; the calendar month without billing settings), read by the
day entries were recorded, as the close reads it; the night's schedule makes it once the period is closed.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from analytics.models import MonthlyReport
from analytics.monthly.content import monthly_content
from analytics.monthly.csv import monthly_csv
from analytics.monthly.pdf import render_monthly_pdf
from analytics.services import analytics_refresh, summary_state
from billing.models import BillingSettings, Period
from billing.periods import period_containing, period_dates
from points.models import Programme
from stores.models import Merchant

logger = logging.getLogger(__name__)

KEEP = 12


class MonthlyReportError(ValueError):
    pass


@dataclass
class MonthlyRun:
    made: list[MonthlyReport]
    mailed: int


def _closing_day(programme: Programme) -> int:
    closing = BillingSettings.objects.filter(programme=programme).values_list("closing_day", flat=True).first()
    return closing or 0


def report_days(*, programme: Programme, year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the programme's month `year-month` (its billing period)."""
    first, after = period_dates(year=year, month=month, closing_day=_closing_day(programme))
    return first, after - datetime.timedelta(days=1)


def last_ended_month(*, programme: Programme, today: datetime.date | None = None) -> tuple[int, int]:
    """The programme's last month (billing period) that has ended by today."""
    year, month = period_containing(today or timezone.localdate(), closing_day=_closing_day(programme))
    return (year, month - 1) if month > 1 else (year - 1, 12)


def monthly_reports_due(*, now: datetime.datetime | None = None) -> list[tuple[Programme, int, int]]:
    """Each active programme's last ended month, once it is closed where the programme is billed: what the
    night's schedule makes (a month already made is only looked at)."""
    today = timezone.localdate(now or timezone.now())
    due = []
    for programme in Programme.objects.filter(is_active=True).order_by("code"):
        year, month = last_ended_month(programme=programme, today=today)
        billed = BillingSettings.objects.filter(programme=programme).exists()
        closed = Period.objects.filter(
            programme=programme, year=year, month=month, status=Period.Status.CLOSED
        ).exists()
        if closed or not billed:
            due.append((programme, year, month))
    return due


def report_merchants(*, programme: Programme):
    """The merchants who asked for the monthly report and have a store in the programme."""
    return Merchant.objects.filter(monthly_report=True, stores__programmes=programme).distinct().order_by("code")


def _existing(programme: Programme, merchant: Merchant | None, year: int, month: int) -> MonthlyReport | None:
    return MonthlyReport.objects.filter(programme=programme, merchant=merchant, year=year, month=month).first()


def monthly_report_make(
    *, programme: Programme, year: int, month: int, merchant: Merchant | None = None
) -> MonthlyReport:
    """The report of the month for the secretariat (no merchant) or the merchant: the one made, or a new one.
    The owner's reports past the twelve newest are deleted with their files."""
    existing = _existing(programme, merchant, year, month)
    if existing is not None:
        return existing
    first, last = report_days(programme=programme, year=year, month=month)
    # The PDF and CSV speak Japanese, whoever asked for them.
    with override("ja"):
        content = monthly_content(programme=programme, first_day=first, last_day=last, merchant=merchant)
        pdf, csv = render_monthly_pdf(content), monthly_csv(content)
    with transaction.atomic():
        # Two makers of one programme's reports take turns here; the second finds the first one's report.
        Programme.objects.select_for_update().filter(pk=programme.pk).first()
        existing = _existing(programme, merchant, year, month)
        if existing is not None:
            return existing
        report = MonthlyReport(
            programme=programme, merchant=merchant, year=year, month=month, first_day=first, last_day=last
        )
        report.pdf.save(f"{report.filename}.pdf", ContentFile(pdf), save=False)
        report.csv.save(f"{report.filename}.csv", ContentFile(csv), save=False)
        report.save()
        _prune(programme, merchant)
    return report


def _prune(programme: Programme, merchant: Merchant | None) -> None:
    owned = MonthlyReport.objects.filter(programme=programme, merchant=merchant).order_by("-year", "-month")
    old = list(owned[KEEP:])
    if not old:
        return
    files = [(report.pdf.storage, name) for report in old for name in (report.pdf.name, report.csv.name) if name]
    MonthlyReport.objects.filter(pk__in=[report.pk for report in old]).delete()

    def remove():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(remove)


def _address(report: MonthlyReport) -> str:
    if report.merchant_id is None:
        return settings.REPORTS_SECRETARIAT_EMAIL
    return report.merchant.email


def _message(report: MonthlyReport, address: str) -> EmailMessage:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    with override("ja"):
        if report.merchant_id is None:
            owner = report.programme.issuer_name
            where = base + reverse("admin:analytics_monthlyreport_changelist")
        else:
            owner = report.merchant.name
            where = base + reverse("portal:reports")
        subject = _("%(programme)s monthly report for %(month)s") % {
            "programme": report.programme.name,
            "month": report.label,
        }
        values = {
            "owner": owner,
            "programme": report.programme.name,
            "month": report.label,
            "first": f"{report.first_day:%Y/%m/%d}",
            "last": f"{report.last_day:%Y/%m/%d}",
        }
        body = "\n".join(
            [
                _("Dear %(owner)s,") % values,
                "",
                _("The monthly report of %(programme)s for %(month)s (%(first)s to %(last)s) is attached as a PDF.")
                % values,
                _("It and its CSV, with the twelve latest reports, can be downloaded here:"),
                where,
                "",
            ]
        )
    message = EmailMessage(subject, body, to=[address])
    with report.pdf.open("rb") as pdf:
        message.attach(f"{report.filename}.pdf", pdf.read(), "application/pdf")
    return message


def monthly_report_send(*, report: MonthlyReport, now: datetime.datetime | None = None) -> bool:
    """Mail the report to its owner once. False when it was mailed already or has nowhere to go."""
    address = _address(report)
    if not address:
        return False
    message = _message(report, address)
    claimed = MonthlyReport.objects.filter(pk=report.pk, sent_at__isnull=True).update(
        sent_at=now or timezone.now(), sent_to=address
    )
    if not claimed:
        return False
    try:
        message.send()
    except Exception:
        # Not handed over: the next run tries again.
        MonthlyReport.objects.filter(pk=report.pk).update(sent_at=None, sent_to="")
        raise
    report.refresh_from_db(fields=["sent_at", "sent_to"])
    return True


def monthly_reports_make(
    *, programme: Programme, year: int, month: int, send: bool = True, today: datetime.date | None = None
) -> MonthlyRun:
    """The month's reports of the programme: the secretariat's and each merchant's who asked for one, each
    mailed once. A month that has not ended is refused; the summaries are brought up to date first."""
    first, last = report_days(programme=programme, year=year, month=month)
    if last >= (today or timezone.localdate()):
        raise MonthlyReportError(
            _("The month %(year)s-%(month)02d has not ended yet.") % {"year": year, "month": month}
        )
    state = summary_state()
    if state.final_through is None or state.final_through < last:
        analytics_refresh()
    owners = [None, *report_merchants(programme=programme)]
    run = MonthlyRun(made=[], mailed=0)
    for merchant in owners:
        report = monthly_report_make(programme=programme, year=year, month=month, merchant=merchant)
        run.made.append(report)
        if send and report.sent_at is None:
            try:
                run.mailed += monthly_report_send(report=report)
            except Exception:
                logger.exception("monthly report %s could not be mailed", report.pk)
    return run
