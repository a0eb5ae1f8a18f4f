"""Merchants, stores and terminals in the back office.

Terminal secrets and terminal status change only through the actions here,
which call `stores.services`; a new secret is shown once on the page that
answers the action and is stored nowhere in clear.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.backoffice import BackofficeAdmin
from stores import selectors, services
from stores.models import Merchant, Store, Terminal
from stores.resources import MerchantResource, StoreResource, TerminalResource


class InvoiceIssuerFilter(admin.SimpleListFilter):
    title = _("qualified invoice issuer")
    parameter_name = "invoice_issuer"

    def lookups(self, request, model_admin):
        return [("yes", _("Registered")), ("no", _("Not registered"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(invoice_registration_number="")
        if self.value() == "no":
            return queryset.filter(invoice_registration_number="")
        return queryset


class StoreInline(admin.TabularInline):
    model = Store
    fields = ["code", "name", "category", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Stores are added on their own page, where all their fields are.
        return False


@admin.register(Merchant)
class MerchantAdmin(BackofficeAdmin):
    resource_classes = [MerchantResource]
    list_display = ["code", "name", "invoice_registration_number", "phone", "email"]
    list_filter = [InvoiceIssuerFilter, "bank_account_type"]
    search_fields = ["code", "name", "name_kana", "=invoice_registration_number"]
    search_help_text = _("Merchant code, company name (also kana) or exact invoice registration number.")
    list_select_related = False
    fieldsets = [
        (None, {"fields": ["code", "name", "name_kana", "representative"]}),
        (_("Invoicing"), {"fields": ["invoice_registration_number", "email", "monthly_report"]}),
        (_("Address"), {"fields": ["postal_code", "address", "phone"]}),
        (
            _("Bank account for payments"),
            {
                "fields": [
                    "bank_code",
                    "bank_branch_code",
                    "bank_account_type",
                    "bank_account_number",
                    "bank_account_holder_kana",
                ]
            },
        ),
    ]
    inlines = [StoreInline]


class StoreForm(forms.ModelForm):
    """The earn rate is entered as a percentage, as merchants quote it ("1% back"),
    and kept in basis points."""

    earn_rate_percent = forms.DecimalField(
        label=_("earn rate (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        # xgettext:no-python-format
        help_text=_("Points per purchase amount: 1.00 % is 1 point per 100 yen."),
    )

    class Meta:
        model = Store
        fields = [
            "code",
            "name",
            "name_kana",
            "merchant",
            "category",
            "status",
            "postal_code",
            "address",
            "phone",
            "contract_start",
            "contract_end",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["earn_rate_percent"].initial = Decimal(self.instance.earn_rate_bp) / 100

    def clean(self):
        cleaned = super().clean()
        percent = cleaned.get("earn_rate_percent")
        if percent is not None:
            self.instance.earn_rate_bp = int(percent * 100)
        return cleaned


class ContractFilter(admin.SimpleListFilter):
    title = _("contract")
    parameter_name = "contract"

    def lookups(self, request, model_admin):
        return [("current", _("In force")), ("future", _("Not started yet")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.filter(contract_start__lte=today).exclude(contract_end__lte=today)
        if self.value() == "future":
            return queryset.filter(contract_start__gt=today)
        if self.value() == "ended":
            return queryset.filter(contract_end__lte=today)
        return queryset


class TerminalInline(admin.TabularInline):
    model = Terminal
    fields = ["code", "name", "serial_number", "status", "last_seen_at"]
    readonly_fields = ["status", "last_seen_at"]
    extra = 0
    # A terminal with transactions cannot be deleted; revoke it instead.
    can_delete = False
    show_change_link = True


@admin.register(Store)
class StoreAdmin(BackofficeAdmin):
    resource_classes = [StoreResource]
    form = StoreForm
    list_display = ["code", "name", "merchant", "category", "status", "earn_rate", "contract_start", "contract_end"]
    list_filter = ["status", "category", ContractFilter]
    search_fields = ["code", "name", "name_kana", "merchant__code", "merchant__name"]
    search_help_text = _("Store code or name, or the merchant's code or name.")
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_kana", "merchant", "category", "status"]}),
        (_("Address"), {"fields": ["postal_code", "address", "phone"]}),
        (_("Points"), {"fields": ["earn_rate_percent"]}),
        (_("Contract"), {"fields": ["contract_start", "contract_end"]}),
    ]
    inlines = [TerminalInline]
    actions = ["suspend", "reactivate"]

    @admin.display(description=_("earn rate"), ordering="earn_rate_bp")
    def earn_rate(self, store):
        return store.earn_rate_display

    @admin.action(description=_("Suspend selected stores"), permissions=["change"])
    def suspend(self, request, queryset):
        stores = list(queryset.exclude(status=Store.Status.SUSPENDED))
        for store in stores:
            services.store_suspend(store=store, staff=request.user)
        self.message_user(
            request,
            ngettext("%(count)d store suspended.", "%(count)d stores suspended.", len(stores)) % {"count": len(stores)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reactivate selected stores"), permissions=["change"])
    def reactivate(self, request, queryset):
        stores = list(queryset.exclude(status=Store.Status.ACTIVE))
        for store in stores:
            services.store_reactivate(store=store, staff=request.user)
        self.message_user(
            request,
            ngettext("%(count)d store reactivated.", "%(count)d stores reactivated.", len(stores))
            % {"count": len(stores)},
            messages.SUCCESS,
        )


class SilentTerminalFilter(admin.SimpleListFilter):
    title = _("contact")
    parameter_name = "silent"

    def lookups(self, request, model_admin):
        minutes = settings.TERMINAL_SILENT_AFTER_MINUTES
        return [
            (
                "yes",
                ngettext(
                    "Active, silent for more than %(minutes)d minute",
                    "Active, silent for more than %(minutes)d minutes",
                    minutes,
                )
                % {"minutes": minutes},
            ),
            (
                "no",
                ngettext(
                    "Heard from in the last %(minutes)d minute", "Heard from in the last %(minutes)d minutes", minutes
                )
                % {"minutes": minutes},
            ),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return selectors.terminals_silent(queryset=queryset)
        if self.value() == "no":
            return selectors.terminals_heard_from(queryset=queryset)
        return queryset


@admin.register(Terminal)
class TerminalAdmin(BackofficeAdmin):
    resource_classes = [TerminalResource]
    list_display = [
        "code",
        "name",
        "store",
        "status",
        "last_seen_at",
        "has_secret",
        "secret_issued_at",
    ]
    list_filter = ["status", SilentTerminalFilter, "store__category"]
    search_fields = ["code", "name", "=serial_number", "store__code", "store__name"]
    search_help_text = _("Terminal code or name, exact serial number, or the store's code or name.")
    list_select_related = ["store"]
    autocomplete_fields = ["store"]
    fields = [
        "code",
        "name",
        "serial_number",
        "store",
        "status",
        "secret_issued_at",
        "last_seen_at",
        "revoked_at",
        "revoked_by",
        "created_at",
    ]
    # Status and secret change only through the actions, which audit them.
    readonly_fields = ["status", "secret_issued_at", "last_seen_at", "revoked_at", "revoked_by", "created_at"]
    actions = ["issue_secret", "revoke", "reactivate"]

    @admin.display(description=_("secret issued"), boolean=True)
    def has_secret(self, terminal):
        return terminal.secret_hash is not None

    @admin.action(description=_("Issue new secret (one terminal)"), permissions=["change"])
    def issue_secret(self, request, queryset):
        terminals = list(queryset[:2])
        if len(terminals) != 1:
            self.message_user(
                request,
                _("Select exactly one terminal: each secret is shown only once and goes into one terminal."),
                messages.ERROR,
            )
            return None
        terminal = terminals[0]
        secret = services.terminal_issue_secret(terminal=terminal, staff=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New secret for terminal %(code)s") % {"code": terminal.code},
            "terminal": terminal,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/stores/terminal/secret_issued.html", context)
        # The secret must not survive in a browser or proxy cache.
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("Revoke selected terminals"), permissions=["change"])
    def revoke(self, request, queryset):
        terminals = list(queryset.exclude(status=Terminal.Status.REVOKED))
        for terminal in terminals:
            services.terminal_revoke(terminal=terminal, staff=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d terminal revoked; it can no longer connect.",
                "%(count)d terminals revoked; they can no longer connect.",
                len(terminals),
            )
            % {"count": len(terminals)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reactivate selected terminals"), permissions=["change"])
    def reactivate(self, request, queryset):
        terminals = list(queryset.filter(status=Terminal.Status.REVOKED))
        for terminal in terminals:
            services.terminal_reactivate(terminal=terminal, staff=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d terminal reactivated; issue it a new secret before it can connect.",
                "%(count)d terminals reactivated; issue each a new secret before they can connect.",
                len(terminals),
            )
            % {"count": len(terminals)},
            messages.SUCCESS,
        )
