"""The merchant portal's pages and downloads.

`merchant_required` lets in only a logged-in user with a MerchantUser and puts
its merchant on the request; every object is then looked up through that
merchant, so another merchant's ids (and statements not yet sent) answer 404.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from analytics import tables as analytics_tables
from analytics.charts import svg
from analytics.models import MonthlyReport
from analytics.selectors import ReportFilter, stores_report
from analytics.services import summary_state
from billing.documents.csv import statement_csv
from billing.models import Statement, StatementFile
from billing.services import statement_document
from common.downloads import CSV_ENCODINGS, csv_attachment
from common.privacy import SMALL_GROUP_LABEL
from common.replica import reading_from_replica
from portal import selectors
from portal.forms import AnalyticsForm, PortalAuthenticationForm, PortalPasswordResetForm, is_merchant_user
from stores.models import MerchantUser
from stores.services import merchant_monthly_report_set

STATEMENTS_PER_PAGE = 50
# ?encoding= → (codec for statement_csv, charset of the response, file name suffix); as the admin offers them.


def merchant_required(view):
    """Anonymous users go to the portal login; users without a merchant (staff) find nothing here."""

    @wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        merchant_user = MerchantUser.objects.select_related("merchant").filter(user=request.user).first()
        if merchant_user is None:
            raise Http404
        request.merchant = merchant_user.merchant
        return view(request, *args, **kwargs)

    return wrapped


def _render(request, template: str, context: dict):
    return render(request, f"portal/{template}", {"merchant": request.merchant, **context})


# --- pages -------------------------------------------------------------------------------


@merchant_required
@reading_from_replica()
def dashboard(request):
    overviews = selectors.store_overviews(stores=selectors.merchant_stores(merchant=request.merchant))
    return _render(request, "dashboard.html", {"overviews": overviews})


@merchant_required
@reading_from_replica()
def store_detail(request, store_id: int):
    store = get_object_or_404(selectors.merchant_stores(merchant=request.merchant), pk=store_id)
    (overview,) = selectors.store_overviews(stores=[store])
    return _render(request, "store.html", {"overview": overview, "store": store})


@merchant_required
def statement_list(request):
    page = Paginator(selectors.merchant_statements(merchant=request.merchant), STATEMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return _render(request, "statements.html", {"page": page, "statements": page.object_list})


@merchant_required
@reading_from_replica()
def analytics(request, store_id: int | None = None):
    """分析: the merchant's stores (all of them, or the one in the path): visits, new and returning members,
    the repeat rate, and where their points went and came from; each table also as CSV."""
    stores = list(selectors.merchant_stores(merchant=request.merchant))
    store = next((each for each in stores if each.pk == store_id), None)
    if store_id is not None and store is None:
        raise Http404
    form = AnalyticsForm(request.GET if "start" in request.GET else None)
    context = {
        "form": form,
        "stores": stores,
        "store": store,
        "state": summary_state(),
        "small_group": SMALL_GROUP_LABEL,
        "period_query": _period_query(request),
    }
    if form.is_bound and not form.is_valid():
        return _render(request, "analytics.html", context)
    start, end, by = form.period()
    own = frozenset(each.pk for each in stores)
    report = ReportFilter(
        start=start,
        end=end,
        by=by,
        programme_ids=selectors.merchant_programme_ids(merchant=request.merchant),
        store_ids=frozenset({store.pk}) if store else own,
    )
    result = stores_report(report, own_store_ids=own)
    tables = {
        "visits": analytics_tables.StoreVisitsTable(result.rows, total=result.total, prefix="visits-"),
        "spent": analytics_tables.SpentWhereTable(result.spent_where, total=result.spent_where_total, prefix="spent-"),
        "came": analytics_tables.CameFromTable(result.came_from, total=result.came_from_total, prefix="came-"),
    }
    if request.GET.get("format") == "csv":
        return _analytics_csv(request, tables, report, store)
    for table in tables.values():
        RequestConfig(request, paginate={"per_page": table._meta.per_page}).configure(table)
    context.update(
        report=report,
        total=result.total,
        spent_where=result.spent_where,
        came_from=result.came_from,
        charts={chart.id.replace("-", "_"): svg(chart) for chart in result.charts},
        tables=tables,
    )
    return _render(request, "analytics.html", context)


def _period_query(request) -> str:
    """The period chosen, for the links to another store's analytics."""
    query = request.GET.copy()
    for name in list(query):
        if name not in ("start", "end", "by"):
            del query[name]
    return query.urlencode()


def _analytics_csv(request, tables: dict, report: ReportFilter, store):
    table = tables.get(request.GET.get("table", "visits"))
    encoding = CSV_ENCODINGS.get(request.GET.get("encoding", "utf-8"))
    if table is None or encoding is None:
        raise Http404
    codec, charset, suffix = encoding
    data = [*table.data, table.total]
    text = TableExport(TableExport.CSV, type(table)(data)).export()
    name = f"analytics-{store.code if store else 'all'}-{report.first:%Y%m%d}-{report.last:%Y%m%d}"
    name += f"-{table.prefix.rstrip('-')}{suffix}.csv"
    return csv_attachment(text.encode(codec, errors="replace"), charset=charset, filename=name)


# --- downloads ---------------------------------------------------------------------------


def _sent_statement(request, statement_id: int) -> Statement:
    return get_object_or_404(
        Statement.objects.select_related("store"),
        pk=statement_id,
        merchant=request.merchant,
        status=Statement.Status.SENT,
    )


@merchant_required
def statement_pdf(request, statement_id: int):
    statement = _sent_statement(request, statement_id)
    record = get_object_or_404(StatementFile, statement=statement)
    return FileResponse(
        record.pdf.open("rb"), as_attachment=True, filename=f"{statement.number}.pdf", content_type="application/pdf"
    )


@merchant_required
def statement_csv_download(request, statement_id: int):
    statement = _sent_statement(request, statement_id)
    try:
        codec, charset, suffix = CSV_ENCODINGS[request.GET.get("encoding", "utf-8")]
    except KeyError:
        raise Http404 from None
    content = statement_csv(statement_document(statement), encoding=codec)
    return csv_attachment(content, charset=charset, filename=f"{statement.number}{suffix}.csv")


# --- monthly reports ---------------------------------------------------------------------


@merchant_required
def report_list(request):
    """The merchant's monthly reports (the twelve latest) and whether it asks for them by mail."""
    if request.method == "POST":
        wanted = request.POST.get("monthly_report") == "on"
        merchant_monthly_report_set(merchant=request.merchant, wanted=wanted, user=request.user)
        messages.success(
            request,
            _("You will receive the monthly report by mail.")
            if wanted
            else _("The monthly report will no longer be mailed."),
        )
        return redirect("portal:reports")
    reports = MonthlyReport.objects.filter(merchant=request.merchant).select_related("programme")
    return _render(request, "reports.html", {"reports": reports.order_by("-year", "-month", "programme__code")})


def _own_report(request, report_id: int) -> MonthlyReport:
    return get_object_or_404(MonthlyReport, pk=report_id, merchant=request.merchant)


@merchant_required
def report_pdf(request, report_id: int):
    report = _own_report(request, report_id)
    return FileResponse(
        report.pdf.open("rb"), as_attachment=True, filename=f"{report.filename}.pdf", content_type="application/pdf"
    )


@merchant_required
def report_csv(request, report_id: int):
    report = _own_report(request, report_id)
    return FileResponse(
        report.csv.open("rb"),
        as_attachment=True,
        filename=f"{report.filename}.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- login, logout, password reset ---------------------------------------------------------


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalAuthenticationForm
    next_page = reverse_lazy("portal:dashboard")


class PortalLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You have logged out."))
        return response


class PortalPasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    form_class = PortalPasswordResetForm
    email_template_name = "portal/password_reset_email.txt"
    subject_template_name = "portal/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    @property
    def extra_email_context(self):
        # The configured address of the portal, not the request's Host header, goes into the link.
        return {"portal_base_url": settings.PORTAL_BASE_URL.rstrip("/")}


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if is_merchant_user(user) else None


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
