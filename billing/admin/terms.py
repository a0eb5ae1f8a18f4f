"""How a programme bills its stores, and the stores whose terms differ."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.backoffice import AuditedAdminMixin
from billing.models import BillingSettings, StoreBillingTerms
from billing.money import price_text
from common.admin import NoCountPaginator

FEE_FIELDS = ["system_fee_yen", "terminal_rental_yen", "transaction_fee_yen"]


class BillingModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Edited by hand, audited, and listed without a full COUNT(*)."""

    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50


def _price(price_bp: int | None) -> str:
    return "—" if price_bp is None else price_text(price_bp)


@admin.register(BillingSettings)
class BillingSettingsAdmin(BillingModelAdmin):
    list_display = [
        "programme",
        "closing_day_text",
        "issue_price",
        "payback_price",
        "system_fee_yen",
        "close_automatically",
        "issuer_registration_number",
    ]
    list_filter = ["close_automatically"]
    search_fields = ["programme__code", "programme__name", "programme__secretariat_name", "=issuer_registration_number"]
    search_help_text = _("Programme code or name, issuer name or exact registration number.")
    list_select_related = ["programme"]
    autocomplete_fields = ["programme"]
    fieldsets = [
        (None, {"fields": ["programme"]}),
        (
            _("Period and prices"),
            {"fields": ["closing_day", "close_automatically", "issue_price_bp", "payback_rate_bp"]},
        ),
        (_("Fees (before tax)"), {"fields": FEE_FIELDS}),
        (_("Payment terms"), {"fields": ["payment_due_months", "payment_due_day"]}),
        (
            _("Issuer (printed on every document)"),
            {
                "fields": ["issuer_registration_number"],
                "description": _(
                    "The issuer's name, address and phone are the programme's secretariat, set on the programme."
                ),
            },
        ),
        (
            _("The secretariat's bank account (for the Zengin transfer file)"),
            {
                "fields": [
                    "consignor_code",
                    "consignor_name_kana",
                    "bank_code",
                    "bank_name",
                    "bank_name_kana",
                    "branch_code",
                    "branch_name",
                    "branch_name_kana",
                    "account_type",
                    "account_number",
                ],
                "description": _("Stores that pay transfer to this account; payouts to stores are drawn on it."),
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # One settings row per programme, for good.
        return ["programme"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # Closed periods refer to their programme's settings; nothing is deleted.
        return False

    @admin.display(description=_("closing day"), ordering="closing_day")
    def closing_day_text(self, settings):
        return _("month end") if settings.closing_day == 0 else settings.closing_day

    @admin.display(description=_("charge per point issued"), ordering="issue_price_bp")
    def issue_price(self, settings):
        return _price(settings.issue_price_bp)

    @admin.display(description=_("payback per point spent"), ordering="payback_rate_bp")
    def payback_price(self, settings):
        return _price(settings.payback_rate_bp)


class OwnTermsFilter(admin.SimpleListFilter):
    title = _("own terms")
    parameter_name = "own"

    def lookups(self, request, model_admin):
        return [("prices", _("Own point prices")), ("fees", _("Own fees"))]

    def queryset(self, request, queryset):
        if self.value() == "prices":
            return queryset.exclude(issue_price_bp__isnull=True, payback_rate_bp__isnull=True)
        if self.value() == "fees":
            return queryset.exclude(
                system_fee_yen__isnull=True, terminal_rental_yen__isnull=True, transaction_fee_yen__isnull=True
            )
        return queryset


@admin.register(StoreBillingTerms)
class StoreBillingTermsAdmin(BillingModelAdmin):
    list_display = ["store", "issue_price", "payback_price", *FEE_FIELDS, "note"]
    list_filter = [OwnTermsFilter, "store__status", "store__category"]
    search_fields = ["store__code", "store__name", "store__merchant__name", "note"]
    search_help_text = _("Store code or name, merchant name, or a word of the note.")
    list_select_related = ["store"]
    autocomplete_fields = ["store"]
    fieldsets = [
        (
            None,
            {
                "fields": ["store", "note"],
                "description": _("Leave a price or fee empty and the store pays what its programme sets."),
            },
        ),
        (_("Prices"), {"fields": ["issue_price_bp", "payback_rate_bp"]}),
        (_("Fees (before tax)"), {"fields": FEE_FIELDS}),
    ]

    @admin.display(description=_("charge per point issued"), ordering="issue_price_bp")
    def issue_price(self, terms):
        return _price(terms.issue_price_bp)

    @admin.display(description=_("payback per point spent"), ordering="payback_rate_bp")
    def payback_price(self, terms):
        return _price(terms.payback_rate_bp)
