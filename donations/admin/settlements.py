"""Donation settlements: the monthly close (run from here for a month, or nightly by the schedule), each
organisation's notice PDF, the bank transfer file that pays them, and recording the payment. Every write
is a service call (donations.services), which writes the audit row."""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.zengin import ZenginError
from common.admin import ReadOnlyAdmin
from common.formatting import date_text
from common.scoping import narrow_form
from donations.admin.forms import CloseMonthForm
from donations.errors import DonationCloseError
from donations.models import DonationSettlement
from donations.services import donations_close, donations_transfer_file, settlement_mark_paid

CHANGE_PERMISSION = "donations.change_donationsettlement"


@admin.register(DonationSettlement)
class DonationSettlementAdmin(ReadOnlyAdmin):
    list_display = [
        "organisation",
        "label",
        "donation_count",
        "total_points",
        "total_yen",
        "status",
        "paid_on",
        "notice",
    ]
    list_filter = ["status", "organisation__programme", "year", "month"]
    search_fields = ["organisation__name"]
    search_help_text = gettext_lazy("Organisation name.")
    list_select_related = ["organisation"]
    actions = ["transfer_file", "mark_paid"]
    change_list_template = "admin/donations/donationsettlement/change_list.html"
    fields = [
        "organisation",
        "label",
        "dates",
        "donation_count",
        "total_points",
        "total_yen",
        "status",
        "notice",
        "closed_at",
        "closed_by",
        "paid_on",
        "paid_by",
    ]
    readonly_fields = fields

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("close/", view(self.close_view), name="donations_donationsettlement_close"),
            path("<path:object_id>/notice/", view(self.notice_view), name="donations_donationsettlement_notice"),
            *super().get_urls(),
        ]

    def has_pay_permission(self, request):
        return request.user.has_perm(CHANGE_PERMISSION)

    # --- what the pages show -----------------------------------------------------------------

    @admin.display(description=gettext_lazy("month"), ordering="year")
    def label(self, settlement):
        return settlement.label

    @admin.display(description=gettext_lazy("dates"))
    def dates(self, settlement):
        last = timezone.localdate(settlement.ends_at) - datetime.timedelta(days=1)
        return f"{date_text(timezone.localdate(settlement.starts_at))} – {date_text(last)}"

    @admin.display(description=gettext_lazy("notice"))
    def notice(self, settlement):
        if not settlement.notice_pdf:
            return _("The PDF has not been rendered yet.")
        url = reverse("admin:donations_donationsettlement_notice", args=[settlement.pk])
        return format_html('<a href="{}" class="notice-pdf">PDF</a>', url)

    # --- the notice, only to staff who may see settlements --------------------------------------

    def notice_view(self, request, object_id):
        settlement = self.get_object(request, unquote(object_id))
        if settlement is None:
            raise Http404
        if not self.has_view_permission(request, settlement):
            raise PermissionDenied
        if not settlement.notice_pdf:
            raise Http404(_("The PDF has not been rendered yet."))
        name = f"donation-{settlement.year}-{settlement.month:02d}-{settlement.organisation_id}.pdf"
        return FileResponse(settlement.notice_pdf.open("rb"), content_type="application/pdf", filename=name)

    # --- the close ---------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_close": request.user.has_perm(CHANGE_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def close_view(self, request):
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        form = CloseMonthForm(request.POST or None)
        narrow_form(request, form)
        if request.method == "POST" and form.is_valid():
            programme = form.cleaned_data["programme"]
            year, month = form.cleaned_data["period"]
            try:
                result = donations_close(programme=programme, year=year, month=month, staff=request.user)
            except DonationCloseError as error:
                form.add_error("period", str(error))
            else:
                made = len(result.settlements)
                if made:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)d organisation settled for %(year)d-%(month)02d, with its notice.",
                            "%(count)d organisations settled for %(year)d-%(month)02d, each with its notice.",
                            made,
                        )
                        % {"count": made, "year": year, "month": month},
                    )
                else:
                    messages.info(
                        request,
                        _("Nothing new to settle for %(year)d-%(month)02d.") % {"year": year, "month": month},
                    )
                changelist = reverse("admin:donations_donationsettlement_changelist")
                return redirect(f"{changelist}?year__exact={year}&month__exact={month}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Close a month of donations"),
            "form": form,
        }
        return TemplateResponse(request, "admin/donations/donationsettlement/close.html", context)

    # --- paying ------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Export bank transfer file (Zengin)"), permissions=["pay"])
    def transfer_file(self, request, queryset):
        chosen = list(queryset.select_related("organisation").order_by("pk"))
        today = timezone.localdate()
        try:
            content = donations_transfer_file(settlements=chosen, transfer_date=today, staff=request.user)
        except ZenginError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        response = HttpResponse(content, content_type="text/plain; charset=shift_jis")
        response["Content-Disposition"] = f'attachment; filename="zengin-donations-{today:%Y%m%d}.txt"'
        return response

    @admin.action(description=gettext_lazy("Mark as paid today"), permissions=["pay"])
    def mark_paid(self, request, queryset):
        today = timezone.localdate()
        paid = 0
        for settlement in queryset.filter(status=DonationSettlement.Status.CLOSED).order_by("pk"):
            settlement_mark_paid(settlement=settlement, on=today, staff=request.user)
            paid += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d settlement recorded as paid today.", "%(count)d settlements recorded as paid today.", paid
            )
            % {"count": paid},
            messages.SUCCESS if paid else messages.WARNING,
        )
