"""The analytics reports in the admin (分析): points issued, spent and outstanding; circulation between stores;
members and visits; campaigns, coupons and rallies. Each is a filter form, charts (SVG drawn on the server),
a sortable, paged table and its CSV (UTF-8 with a BOM, or Shift_JIS).

Each report is a proxy of the programme (analytics.models), so that it has its place in the index and a view
permission of its own: the index leads to the report of every programme the staff member works for; the
list shows those programmes, and a programme's page is its report. Staff of a company see their programme's
figures only (common.scoping: the programmes, stores and ranks offered are theirs, the report reads theirs).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_q.tasks import async_task
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from analytics import forms, tables
from analytics.charts import svg
from analytics.models import CirculationReport, MembersReport, MonthlyReport, PointsReport, PromotionsReport
from analytics.selectors import circulation_report, members_report, points_report, promotions_report
from analytics.selectors.filters import attributes_text
from analytics.services import summary_state
from common.admin import ReadOnlyAdmin
from common.downloads import CSV_ENCODINGS, csv_attachment
from common.formatting import date_text
from common.privacy import SMALL_GROUP_LABEL
from common.replica import reading_from_replica
from common.scoping import narrow_form, register_programme_paths, report_programme_ids

register_programme_paths(
    {
        PointsReport: "pk",
        CirculationReport: "pk",
        MembersReport: "pk",
        PromotionsReport: "pk",
        MonthlyReport: "programme",
    }
)
MAKE_PERMISSION = "analytics.make_monthlyreport"


class ReportAdmin(ReadOnlyAdmin):
    """A report: the list of the staff member's programmes, each programme's page its report, and the report
    of all of them (where the index leads)."""

    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    list_select_related = []
    form_class = forms.ReportForm
    slug = ""

    # --- where the index leads ---------------------------------------------------------------

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_report"
        return [path("report/", self.admin_site.admin_view(self.report_view), name=name), *super().get_urls()]

    def index_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_report")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        programme = self.get_object(request, unquote(object_id))
        if programme is None:
            raise Http404
        return self.report_view(request, programme=programme)

    # --- the report --------------------------------------------------------------------------

    @reading_from_replica()  # figures of closed days and the summary tables: a few seconds behind is fine
    def report_view(self, request, programme=None):
        if not self.has_view_permission(request, programme):
            raise PermissionDenied
        # Sent once it names a period; without one (the index's link, a bare CSV link) the default report.
        form = self.form_class(request.GET if "start" in request.GET else None)
        narrow_form(request, form)
        if programme is not None:
            form.fields["programme"].queryset = form.fields["programme"].queryset.filter(pk=programme.pk)
            form.fields["programme"].initial = programme.pk
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.opts.verbose_name_plural,
            "form": form,
            "programme": programme,
            "state": summary_state(),
            "small_group": SMALL_GROUP_LABEL,
            "slug": self.slug,
        }
        if form.is_bound and not form.is_valid():
            return TemplateResponse(request, "admin/analytics/report.html", context)
        # No programme chosen: every programme the staff member works for (all, for the group's secretariat).
        chosen = programme or (form.cleaned_data.get("programme") if form.is_bound else None)
        programme_ids = report_programme_ids(request, chosen)
        report = form.report_filter(programme_ids) if form.is_bound else form.initial_filter(programme_ids)
        options = self.options(form)
        built = self.build(report, options)
        named = {table.prefix.rstrip("-") or "main": table for table in built["tables"]}
        if request.GET.get("format") == "csv":
            table = named.get(request.GET.get("table", "main")) or built["tables"][0]
            return self.csv(request, table, report)
        for table in built["tables"]:
            RequestConfig(request, paginate={"per_page": table._meta.per_page}).configure(table)
        context.update(
            report=report,
            charts=[svg(chart) for chart in built["charts"]],
            tables=[(table, self.csv_query(request, table)) for table in built["tables"]],
            notes=built.get("notes", []),
            summary=built.get("summary", []),
            selection=self.selection(report),
        )
        return TemplateResponse(request, "admin/analytics/report.html", context)

    def options(self, form) -> dict:
        return {}

    def build(self, report, options: dict) -> dict:
        raise NotImplementedError

    def selection(self, report) -> str:
        """What the figures cover, in words."""
        parts = [f"{date_text(report.first)}〜{date_text(report.last)}"]
        if report.by_members:
            parts += attributes_text(report, ranks=_rank_names(report))
        return " / ".join(parts)

    def csv_query(self, request, table) -> str:
        query = request.GET.copy()
        query["format"] = "csv"
        query["table"] = table.prefix.rstrip("-") or "main"
        return query.urlencode()

    def csv(self, request, table, report) -> HttpResponse:
        codec, charset, suffix = CSV_ENCODINGS.get(request.GET.get("encoding", ""), CSV_ENCODINGS["utf-8"])
        data = list(table.data)
        if table.total is not None:
            data.append(table.total)
        whole = type(table)(data)
        text = TableExport(TableExport.CSV, whole).export()
        name = f"{self.slug}-{report.first:%Y%m%d}-{report.last:%Y%m%d}"
        if table.prefix:
            name += "-" + table.prefix.rstrip("-")
        return csv_attachment(text.encode(codec, errors="replace"), charset=charset, filename=f"{name}{suffix}.csv")


def _rank_names(report) -> dict[int, str]:
    from ranks.models import Rank

    if report.rank_id is None:
        return {}
    return dict(Rank.objects.filter(pk=report.rank_id).values_list("pk", "name"))


@admin.register(PointsReport)
class PointsReportAdmin(ReportAdmin):
    slug = "points"

    def build(self, report, options):
        result = points_report(report)
        table = tables.PointsTable(result.rows, total=result.total)
        charts = [result.flows_chart] + ([result.outstanding_chart] if result.outstanding_chart else [])
        last = result.rows[-1] if result.rows else None
        summary = []
        if last is not None and last.outstanding is not None:
            summary = [
                (_("Outstanding points at the end"), tables.figure_text(last.outstanding, _(" pt"))),
                (_("Liability at the payback rate"), tables.figure_text(last.liability_yen, _(" yen"))),
                (_("Breakage rate over the period"), tables.figure_text(result.total.breakage, "%")),
            ]
        return {"tables": [table], "charts": charts, "notes": result.notes, "summary": summary}


@admin.register(CirculationReport)
class CirculationReportAdmin(ReportAdmin):
    slug = "circulation"
    form_class = forms.CirculationForm

    def options(self, form):
        data = form.cleaned_data if form.is_bound else {}
        return {"level": data.get("level") or forms.CATEGORY, "side": data.get("side") or forms.ISSUED}

    def build(self, report, options):
        result = circulation_report(report, level=options["level"], side=options["side"])
        origins = tables.CirculationOriginsTable(result.origins, prefix="origins-")
        pairs = tables.CirculationPairsTable(result.pairs, prefix="pairs-")
        summary = [
            (_("Points spent"), tables.figure_text(result.total, _(" pt"))),
            (_("Spent at another store than the issuing one"), tables.figure_text(result.total_elsewhere, _(" pt"))),
            (_("Share spent at another store"), tables.figure_text(result.share_elsewhere, "%")),
        ]
        return {"tables": [origins, pairs], "charts": [result.chart], "summary": summary}


@admin.register(MembersReport)
class MembersReportAdmin(ReportAdmin):
    slug = "members"
    form_class = forms.MembersForm

    def options(self, form):
        data = form.cleaned_data if form.is_bound else {}
        return {"threshold": data.get("threshold") or 90}

    def build(self, report, options):
        result = members_report(report, threshold=options["threshold"])
        rows = tables.MembersTable(result.rows, total=result.total)
        gaps = tables.GapsTable(result.gaps, prefix="gaps-")
        summary = [
            (_("Visits within a week of the previous one"), tables.figure_text(result.weekly_share, "%")),
            (_("Visits within 60 days of the previous one"), tables.figure_text(result.returning_share, "%")),
        ]
        charts = [result.activity_chart, result.dormant_chart, result.gaps_chart]
        return {"tables": [rows, gaps], "charts": charts, "notes": result.notes, "summary": summary}


@admin.register(PromotionsReport)
class PromotionsReportAdmin(ReportAdmin):
    slug = "promotions"

    def build(self, report, options):
        result = promotions_report(report)
        return {"tables": [tables.PromotionsTable(result.lines)], "charts": [result.chart]}


# --- the monthly reports ----------------------------------------------------------------------------------


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    """The twelve latest monthly reports of each owner, to download (through these views: media are not
    served); the secretariat makes a month's reports by hand (queued)."""

    list_display = ["label", "programme", "owner", "first_day", "last_day", "created_at", "sent_at", "downloads"]
    list_filter = ["programme", "year", ("merchant", admin.EmptyFieldListFilter)]
    search_fields = ["merchant__code", "merchant__name", "programme__code"]
    list_select_related = ["programme", "merchant"]
    change_list_template = "admin/analytics/monthlyreport/change_list.html"

    def get_urls(self):
        def url(route, view, name):
            return path(route, self.admin_site.admin_view(view), name=f"analytics_monthlyreport_{name}")

        return [
            url("make/", self.make_view, "make"),
            url("<int:pk>/pdf/", self.pdf_view, "pdf"),
            url("<int:pk>/csv/", self.csv_view, "csv"),
            *super().get_urls(),
        ]

    @admin.display(description=_lazy("month"), ordering="year")
    def label(self, report):
        return report.label

    @admin.display(description=_lazy("for"))
    def owner(self, report):
        return report.merchant.name if report.merchant_id else _("the secretariat")

    @admin.display(description=_lazy("download"))
    def downloads(self, report):
        return format_html(
            '<a href="{}" class="monthly-pdf">PDF</a> <a href="{}" class="monthly-csv">CSV</a>',
            reverse("admin:analytics_monthlyreport_pdf", args=[report.pk]),
            reverse("admin:analytics_monthlyreport_csv", args=[report.pk]),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_make": request.user.has_perm(MAKE_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def _report(self, request, pk) -> MonthlyReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = self.get_object(request, str(pk))
        if report is None:
            raise Http404
        return report

    def pdf_view(self, request, pk):
        report = self._report(request, pk)
        return FileResponse(
            report.pdf.open("rb"), as_attachment=True, filename=f"{report.filename}.pdf", content_type="application/pdf"
        )

    def csv_view(self, request, pk):
        report = self._report(request, pk)
        return FileResponse(
            report.csv.open("rb"),
            as_attachment=True,
            filename=f"{report.filename}.csv",
            content_type="text/csv; charset=utf-8",
        )

    def make_view(self, request):
        if not request.user.has_perm(MAKE_PERMISSION):
            raise PermissionDenied
        form = forms.MonthlyReportsForm(request.POST or None)
        narrow_form(request, form)
        if request.method == "POST" and form.is_valid():
            programme = form.cleaned_data["programme"]
            year, month = form.cleaned_data["month"]
            async_task(
                "analytics.tasks.make_monthly_reports",
                programme.pk,
                year,
                month,
                task_name=f"monthly reports {programme.code} {year}-{month:02d}",
            )
            messages.success(
                request,
                _(
                    "The monthly reports of %(programme)s for %(year)s-%(month)02d were queued; they appear here "
                    "when made."
                )
                % {"programme": programme.name, "year": year, "month": month},
            )
            return redirect("admin:analytics_monthlyreport_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Make a month's reports"),
            "form": form,
        }
        return TemplateResponse(request, "admin/analytics/monthlyreport/make.html", context)
