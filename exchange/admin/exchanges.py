"""Exchanges in the back office: the list (by status, counter and day, found by serial), each exchange
read-only with its lines, its slip, and cancelling it with a reason; the desk and the reports hang off
this admin's URLs (admin/exchange/exchange/desk/, .../report/...)."""

from __future__ import annotations

import unicodedata

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.admin import ReadOnlyAdmin, ReadOnlyInline
from exchange.admin.desk import DeskViews, refusal_text
from exchange.admin.reports import ReportViews
from exchange.forms import CancelForm
from exchange.models import Exchange, ExchangeLine
from exchange.services import exchange_cancel
from exchange.slip import render_exchange_slip
from points.errors import LedgerError

UNDOABLE = (Exchange.Status.RESERVED, Exchange.Status.HANDED_OVER)


class ExchangeLineInline(ReadOnlyInline):
    model = ExchangeLine
    fields = ["item", "quantity", "unit_points", "unit_face_value_yen", "line_points", "line_face_value_yen"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    @admin.display(description=gettext_lazy("points"))
    def line_points(self, line):
        return f"{line.points:,}"

    @admin.display(description=gettext_lazy("face value (yen)"))
    def line_face_value_yen(self, line):
        return f"{line.face_value_yen:,}"


@admin.register(Exchange)
class ExchangeAdmin(ReadOnlyAdmin):
    list_display = [
        "serial",
        "created_at",
        "status",
        "counter",
        "member_pseudonym",
        "points",
        "face_value_yen",
        "staff",
    ]
    list_filter = ["status", "counter", "created_at", "programme"]
    search_fields = ["serial__exact", "member__pseudonym__exact"]
    search_help_text = gettext_lazy("Exact serial (e.g. EX-2026-000123) or member id.")
    # The member only by pseudonym: loading the member would decrypt their personal data for every row.
    list_select_related = ["counter", "staff"]
    autocomplete_fields = []
    ordering = ["-created_at", "-pk"]
    inlines = [ExchangeLineInline]
    change_list_template = "admin/exchange/exchange/change_list.html"
    change_form_template = "admin/exchange/exchange/change_form.html"
    fieldsets = [
        (None, {"fields": ["serial", "status", "programme", "counter", "member_pseudonym", "staff"]}),
        (gettext_lazy("Points and value"), {"fields": ["points", "face_value_yen", "entry", "return_entry"]}),
        (
            gettext_lazy("When"),
            {
                "fields": [
                    "created_at",
                    "window_start",
                    "collect_by",
                    "handed_over_at",
                    "cancelled_at",
                    "lapsed_at",
                ]
            },
        ),
        (gettext_lazy("Reasons"), {"fields": ["override_reason", "cancel_reason"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for _title, options in self.fieldsets for field in options["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_code=F("member__pseudonym"))

    @admin.display(description=gettext_lazy("member id"), ordering="member_code")
    def member_pseudonym(self, exchange):
        return exchange.member_code

    def get_search_results(self, request, queryset, search_term):
        # Serials and member ids are upper case; a serial typed in lower case or full width is still found.
        term = unicodedata.normalize("NFKC", search_term or "").strip().upper()
        return super().get_search_results(request, queryset, term)

    def has_view_permission(self, request, obj=None):
        # Desk staff see what they hand over even without the right to browse every exchange.
        return super().has_view_permission(request, obj) or request.user.has_perm("exchange.add_exchange")

    # --- extra pages ---------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            *DeskViews(self).urls(),
            *ReportViews(self).urls(),
            path("<path:object_id>/slip/", view(self.slip_view), name="exchange_exchange_slip"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="exchange_exchange_cancel"),
            *super().get_urls(),
        ]

    def _exchange(self, request, object_id) -> Exchange:
        exchange = self.get_object(request, unquote(object_id))
        if exchange is None or not self.has_view_permission(request, exchange):
            raise PermissionDenied
        return exchange

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The exchange the change view already loaded, rather than loading it again.
        context["can_cancel"] = (
            obj is not None and obj.status in UNDOABLE and request.user.has_perm("exchange.cancel_exchange")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def slip_view(self, request, object_id):
        exchange = self._exchange(request, object_id)
        response = HttpResponse(render_exchange_slip(exchange), content_type="application/pdf")
        # Inline: the desk prints it from the browser's viewer.
        response["Content-Disposition"] = f'inline; filename="{exchange.serial}.pdf"'
        return response

    def cancel_view(self, request, object_id):
        exchange = self._exchange(request, object_id)
        if not request.user.has_perm("exchange.cancel_exchange"):
            raise PermissionDenied
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                exchange_cancel(exchange=exchange, staff=request.user, reason=form.cleaned_data["reason"])
            except LedgerError as error:
                form.add_error(None, refusal_text(error))
            else:
                self.message_user(
                    request,
                    _("Exchange %(serial)s was cancelled: %(points)s points and the goods went back.")
                    % {"serial": exchange.serial, "points": f"{exchange.points:,}"},
                )
                return redirect(reverse("admin:exchange_exchange_change", args=[exchange.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": exchange,
            "title": _("Cancel exchange %(serial)s") % {"serial": exchange.serial},
            "form": form,
            "lines": list(exchange.lines.select_related("item")),
            "undoable": exchange.status in UNDOABLE,
        }
        return TemplateResponse(request, "admin/exchange/exchange/cancel.html", context)
