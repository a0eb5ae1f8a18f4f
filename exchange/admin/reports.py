"""The exchange reports in the admin: the daily desk report (by counter and item: goods handed over, points
taken, face value) and the monthly exchange cost for the secretariat's accounts, each also as CSV.

Figures come from exchange.selectors; goods of a cancelled exchange come back on the day (or in the month)
of the cancellation, so a day once reported never changes: the correction shows where it happened. Staff of
some programmes see their programmes' counters and costs only.
"""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from common.downloads import CSV_ENCODINGS, csv_attachment
from common.scoping import narrow_form, report_programme_ids
from exchange.forms import DeskReportForm, MonthlyCostForm
from exchange.selectors import Figures, desk_report, monthly_cost


def figure_columns() -> list[str]:
    return [
        _("quantity handed over"),
        _("points taken"),
        _("face value (yen)"),
        _("quantity returned (cancelled)"),
        _("points returned"),
        _("face value returned (yen)"),
        _("net quantity"),
        _("net points"),
        _("net face value (yen)"),
    ]


def figure_values(figures: Figures) -> list[int]:
    return [
        figures.quantity,
        figures.points,
        figures.face_value_yen,
        figures.cancelled_quantity,
        figures.cancelled_points,
        figures.cancelled_face_value_yen,
        figures.net_quantity,
        figures.net_points,
        figures.net_face_value_yen,
    ]


def csv_response(request, rows: list[list], filename: str) -> HttpResponse:
    codec, charset, suffix = CSV_ENCODINGS.get(request.GET.get("encoding", ""), CSV_ENCODINGS["utf-8"])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    content = buffer.getvalue().encode(codec, errors="replace")
    return csv_attachment(content, charset=charset, filename=f"{filename}{suffix}.csv")


class ReportViews:
    """Mounted under the exchange admin: report/daily/ and report/monthly/."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/daily/", view(self.daily_view), name="exchange_report_daily"),
            path("report/monthly/", view(self.monthly_view), name="exchange_report_monthly"),
        ]

    def _check(self, request) -> None:
        if not request.user.has_perm("exchange.view_exchange"):
            raise PermissionDenied

    def _context(self, request, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model_admin.opts, "title": title, **extra}

    # --- the day at the desk ---------------------------------------------------------------

    def daily_view(self, request):
        self._check(request)
        form = DeskReportForm(request.GET if "day" in request.GET else None)
        narrow_form(request, form)
        context = self._context(request, _("Daily desk report"), form=form, columns=figure_columns())
        if form.is_bound and not form.is_valid():
            return TemplateResponse(request, "admin/exchange/reports/daily.html", context)
        day = form.cleaned_data["day"] if form.is_bound else form.initial["day"]
        counter = form.cleaned_data["counter"] if form.is_bound else None
        report = desk_report(day, counter, programme_ids=report_programme_ids(request))
        if request.GET.get("format") == "csv":
            return self._daily_csv(request, report)
        context.update(
            report=report,
            day=day,
            counters=[
                {
                    "counter": counter,
                    "rows": [(row.item, figure_values(row.figures)) for row in report.rows if row.counter == counter],
                    "total": figure_values(figures),
                }
                for counter, figures in report.by_counter.items()
            ],
            total=figure_values(report.total),
            csv_query=request.GET.urlencode(),
        )
        return TemplateResponse(request, "admin/exchange/reports/daily.html", context)

    def _daily_csv(self, request, report) -> HttpResponse:
        rows: list[list] = [[_("day"), _("counter"), _("item"), *figure_columns()]]
        day = report.day.isoformat()
        for row in report.rows:
            rows.append([day, row.counter.name, row.item.name, *figure_values(row.figures)])
        for counter, figures in report.by_counter.items():
            rows.append([day, counter.name, _("Counter total"), *figure_values(figures)])
        rows.append([day, "", _("Total"), *figure_values(report.total)])
        suffix = f"-{report.counter.pk}" if report.counter else ""
        return csv_response(request, rows, f"exchange-desk-{report.day:%Y%m%d}{suffix}")

    # --- the month's cost --------------------------------------------------------------------

    def monthly_view(self, request):
        self._check(request)
        form = MonthlyCostForm(request.GET if "year" in request.GET else None)
        narrow_form(request, form)
        if not form.is_bound:
            # The first programme the staff member works for, not the group's first.
            form.initial["programme"] = form.fields["programme"].queryset.first()
        context = self._context(request, _("Monthly exchange cost"), form=form, columns=figure_columns())
        if form.is_bound:
            if not form.is_valid():
                return TemplateResponse(request, "admin/exchange/reports/monthly.html", context)
            programme, year, month = (form.cleaned_data[name] for name in ("programme", "year", "month"))
        else:
            programme, year, month = form.initial["programme"], form.initial["year"], None
        if programme is None:
            return TemplateResponse(request, "admin/exchange/reports/monthly.html", context)
        months = [(number, monthly_cost(programme, year, number)) for number in range(1, 13)]
        year_total = Figures()
        for _number, cost in months:
            year_total.add(cost.total)
        detail = dict(months).get(month) if month else None
        if request.GET.get("format") == "csv":
            return self._monthly_csv(request, programme, year, months, year_total, detail)
        context.update(
            programme=programme,
            year=year,
            month=month,
            months=[(number, figure_values(cost.total)) for number, cost in months],
            year_total=figure_values(year_total),
            detail=[(row.item, figure_values(row.figures)) for row in detail.rows] if detail else None,
            detail_total=figure_values(detail.total) if detail else None,
            query=f"programme={programme.pk}&year={year}",
            csv_query=request.GET.urlencode() or f"programme={programme.pk}&year={year}",
        )
        return TemplateResponse(request, "admin/exchange/reports/monthly.html", context)

    def _monthly_csv(self, request, programme, year, months, year_total, detail) -> HttpResponse:
        if detail is not None:
            rows: list[list] = [[_("month"), _("item"), *figure_columns()]]
            label = f"{year}-{detail.month:02d}"
            rows += [[label, row.item.name, *figure_values(row.figures)] for row in detail.rows]
            rows.append([label, _("Total"), *figure_values(detail.total)])
            return csv_response(request, rows, f"exchange-cost-{programme.code}-{year}{detail.month:02d}")
        rows = [[_("month"), *figure_columns()]]
        rows += [[f"{year}-{number:02d}", *figure_values(cost.total)] for number, cost in months]
        rows.append([_("Total"), *figure_values(year_total)])
        return csv_response(request, rows, f"exchange-cost-{programme.code}-{year}")
