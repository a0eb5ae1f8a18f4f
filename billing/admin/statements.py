"""Issued statements: the 電子帳簿保存法 search screen (by date, amount and counterparty), the documents
as issued (PDF, CSV), and the settlement: payments received, payouts made, the bank transfer file."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.admin.forms import AmountRangeForm
from billing.documents.csv import statement_csv
from billing.models import Statement, StatementFile, StatementLine
from billing.selectors import statements_overdue
from billing.services import statement_document, statement_settle, statements_transfer_file
from billing.zengin import ZenginError
from common.admin import FormFilter, ReadOnlyAdmin, ReadOnlyInline
from common.downloads import CSV_ENCODINGS, csv_attachment
from common.formatting import yen_text as yen
from common.scoping import scoped


class SettlementFilter(admin.SimpleListFilter):
    title = gettext_lazy("settlement")
    parameter_name = "settlement"

    def lookups(self, request, model_admin):
        return [
            ("settled", gettext_lazy("Settled")),
            ("open", gettext_lazy("Not settled")),
            ("overdue", gettext_lazy("Overdue")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "settled":
            return queryset.filter(settled_on__isnull=False)
        if self.value() == "open":
            return (
                queryset.filter(settled_on__isnull=True)
                .exclude(status=Statement.Status.CANCELLED)
                .exclude(direction=Statement.Direction.EVEN)
            )
        if self.value() == "overdue":
            return queryset.filter(pk__in=statements_overdue().values("pk"))
        return queryset


class AmountRangeFilter(FormFilter):
    """Statements whose amount (whichever way it goes) lies between two yen figures, both optional."""

    title = gettext_lazy("amount")
    form_class = AmountRangeForm

    def filter(self, queryset, cleaned_data):
        low, high = cleaned_data["amount_min"], cleaned_data["amount_max"]
        if low:
            queryset = queryset.filter(Q(net_amount_yen__gte=low) | Q(net_amount_yen__lte=-low))
        if high is not None:
            queryset = queryset.filter(net_amount_yen__lte=high, net_amount_yen__gte=-high)
        return queryset


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = ["position", "kind", "description", "quantity", "unit", "unit_price", "amount_yen", "tax"]
    readonly_fields = fields


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    """Issued documents are never edited; the settlement is recorded by the actions, through services."""

    list_display = [
        "number",
        "issued_on",
        "recipient_name",
        "store",
        # The period is the filter on the right (and in the number's year); a 1,366 px screen has no room.
        "direction",
        "amount",
        "tax_yen",
        "due_on",
        "status",
        "settled_on",
    ]
    list_filter = [SettlementFilter, AmountRangeFilter, "direction", "status", "period"]
    date_hierarchy = "issued_on"
    search_fields = ["number", "recipient_name", "=store__code"]
    search_help_text = gettext_lazy("Document number, counterparty (company name) or exact store code.")
    list_select_related = ["store", "period"]
    inlines = [StatementLineInline]
    actions = ["settle", "transfer_file"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "period",
                    "store",
                    "merchant",
                    "recipient_name",
                    "issuer_registration_number",
                    "documents",
                ]
            },
        ),
        (gettext_lazy("Dates"), {"fields": ["issued_on", "due_on", "sent_at", "settled_on", "settled_by"]}),
        (
            gettext_lazy("Amounts"),
            {
                "fields": [
                    "direction",
                    "non_taxable_amount_yen",
                    "taxable_amount_yen",
                    "tax_yen",
                    "net_amount_yen",
                    "points_issued",
                    "points_spent",
                ]
            },
        ),
        (gettext_lazy("As printed"), {"fields": ["parties", "daily_totals", "notes"]}),
    ]
    readonly_fields = ["documents", "parties", "daily_totals", "notes"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/pdf/", view(self.pdf_view), name="billing_statement_pdf"),
            path("<int:pk>/csv/<str:encoding>/", view(self.csv_view), name="billing_statement_csv"),
            *super().get_urls(),
        ]

    def has_settle_permission(self, request):
        return request.user.has_perm("billing.change_statement")

    # --- what the pages show -------------------------------------------------------------

    @admin.display(description=gettext_lazy("amount"), ordering="net_amount_yen")
    def amount(self, statement):
        return yen(statement.amount_yen)

    @admin.display(description=gettext_lazy("documents"))
    def documents(self, statement):
        links = []
        record = StatementFile.objects.filter(statement=statement).first()
        if record is not None:
            links.append(
                format_html(
                    '<a href="{}" id="statement-pdf">PDF</a> ({}, SHA-256 <code>{}</code>)',
                    reverse("admin:billing_statement_pdf", args=[statement.pk]),
                    _("%(size)s bytes") % {"size": f"{record.size:,}"},
                    record.sha256,
                )
            )
        else:
            links.append(_("The PDF has not been rendered yet."))
        for encoding, label in (("utf-8", _("CSV (UTF-8)")), ("cp932", _("CSV (Shift_JIS)"))):
            url = reverse("admin:billing_statement_csv", args=[statement.pk, encoding])
            links.append(format_html('<a href="{}">{}</a>', url, label))
        return format_html(" · ".join(["{}"] * len(links)), *links)

    @admin.display(description=gettext_lazy("parties"))
    def parties(self, statement):
        snapshot = statement.snapshot or {}
        return render_to_string(
            "admin/billing/statement/parties.html",
            {"issuer": snapshot.get("issuer", {}), "recipient": snapshot.get("recipient", {}), "snapshot": snapshot},
        )

    @admin.display(description=gettext_lazy("daily totals"))
    def daily_totals(self, statement):
        days = (statement.snapshot or {}).get("days", [])
        rows = [(day, f"{issued:,}", f"{spent:,}", f"{count:,}") for day, issued, spent, count in days]
        return render_to_string("admin/billing/statement/days.html", {"rows": rows})

    @admin.display(description=gettext_lazy("notes"))
    def notes(self, statement):
        snapshot = statement.snapshot or {}
        return render_to_string(
            "admin/billing/statement/notes.html",
            {
                "notes": [
                    snapshot.get("payment_note", ""),
                    snapshot.get("adjustments_note", ""),
                    snapshot.get("rounding_note", ""),
                ]
            },
        )

    # --- the documents, only to staff who may see statements --------------------------------

    def _statement(self, request, pk) -> Statement:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(scoped(request, Statement.objects.select_related("store")), pk=pk)

    def pdf_view(self, request, pk):
        statement = self._statement(request, pk)
        record = StatementFile.objects.filter(statement=statement).first()
        if record is None:
            raise Http404(_("The PDF has not been rendered yet."))
        return FileResponse(record.pdf.open("rb"), content_type="application/pdf", filename=f"{statement.number}.pdf")

    def csv_view(self, request, pk, encoding):
        statement = self._statement(request, pk)
        if encoding not in CSV_ENCODINGS:
            raise Http404
        codec, charset, suffix = CSV_ENCODINGS[encoding]
        content = statement_csv(statement_document(statement), encoding=codec)
        return csv_attachment(content, charset=charset, filename=f"{statement.number}{suffix}.csv")

    # --- settlement ------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Mark as paid / paid out today"), permissions=["settle"])
    def settle(self, request, queryset):
        today = timezone.localdate()
        chosen = list(queryset.order_by("pk"))
        settled = 0
        for statement in chosen:
            if (
                statement.settled_on is None
                and statement.status != Statement.Status.CANCELLED
                and statement.direction != Statement.Direction.EVEN
            ):
                statement_settle(statement=statement, on=today, staff=request.user)
                settled += 1
        if settled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d statement recorded as settled today.",
                    "%(count)d statements recorded as settled today.",
                    settled,
                )
                % {"count": settled},
                messages.SUCCESS,
            )
        skipped = len(chosen) - settled
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d statement skipped: already settled, cancelled or with nothing to settle.",
                    "%(count)d statements skipped: already settled, cancelled or with nothing to settle.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("Export bank transfer file (Zengin)"), permissions=["settle"])
    def transfer_file(self, request, queryset):
        chosen = list(queryset.select_related("merchant", "period").order_by("number"))
        payouts = [
            s
            for s in chosen
            if s.direction == Statement.Direction.STORE_IS_PAID
            and s.settled_on is None
            and s.status != Statement.Status.CANCELLED
        ]
        # Payouts are promised for their due date; one already past is paid as soon as possible.
        today = timezone.localdate()
        transfer_date = max([today, min((s.due_on for s in payouts), default=today)])
        try:
            content = statements_transfer_file(statements=chosen, transfer_date=transfer_date, staff=request.user)
        except ZenginError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        response = HttpResponse(content, content_type="text/plain; charset=shift_jis")
        response["Content-Disposition"] = f'attachment; filename="zengin-{transfer_date:%Y%m%d}.txt"'
        return response
