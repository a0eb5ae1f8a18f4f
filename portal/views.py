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
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from billing.documents.csv import statement_csv
from billing.models import Statement, StatementFile
from billing.services import statement_document
from common.downloads import CSV_ENCODINGS, csv_attachment
from common.replica import reading_from_replica
from portal import selectors
from portal.forms import PortalAuthenticationForm, PortalPasswordResetForm, is_merchant_user
from stores.models import MerchantUser

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
