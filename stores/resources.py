"""Import and export of merchants, stores and terminals.

Each is keyed by its code. Model validation (invoice registration number,
postal code, bank codes, contract dates, earn rate) runs on every row, so a
bad value is reported with its row rather than stored. Status changes that
have a service (suspending a store, revoking a terminal) go through it.
A terminal's secret is issued in the admin only: it is never in a file,
either way, and a terminal registered by import cannot authenticate until
one is issued.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from common.imports import BackofficeResource, LookupWidget
from stores.models import Merchant, Store, Terminal
from stores.services import store_reactivate, store_suspend, terminal_reactivate, terminal_revoke


class MerchantResource(BackofficeResource):
    required_columns = ("code", "name")

    class Meta:
        model = Merchant
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "name_kana",
            "invoice_registration_number",
            "representative",
            "postal_code",
            "address",
            "phone",
            "email",
            "bank_code",
            "bank_branch_code",
            "bank_account_type",
            "bank_account_number",
            "bank_account_holder_kana",
        )
        export_order = fields
        name = gettext_lazy("Merchants")


class StoreResource(BackofficeResource):
    merchant = Field(attribute="merchant", column_name="merchant", widget=LookupWidget(Merchant, "code"))

    required_columns = ("code", "merchant", "name", "category", "contract_start")

    class Meta:
        model = Store
        import_id_fields = ("code",)
        fields = (
            "code",
            "merchant",
            "name",
            "name_kana",
            "category",
            "status",
            "postal_code",
            "address",
            "phone",
            "earn_rate_bp",
            "contract_start",
            "contract_end",
        )
        export_order = fields
        name = gettext_lazy("Stores")

    def get_queryset(self):
        return super().get_queryset().select_related("merchant")

    def status_services(self):
        active, suspended = Store.Status.ACTIVE, Store.Status.SUSPENDED
        return {
            (active, suspended): lambda store: store_suspend(store=store, staff=self.user),
            (suspended, active): lambda store: store_reactivate(store=store, staff=self.user),
        }


class TerminalResource(BackofficeResource):
    """Registers terminals in bulk; revoking or reactivating one goes through its service."""

    store = Field(attribute="store", column_name="store", widget=LookupWidget(Store, "code"))

    required_columns = ("code", "store")

    class Meta:
        model = Terminal
        import_id_fields = ("code",)
        fields = ("code", "store", "name", "serial_number", "status")
        export_order = fields
        name = gettext_lazy("Terminals")

    def get_queryset(self):
        return super().get_queryset().select_related("store")

    def status_services(self):
        active, revoked = Terminal.Status.ACTIVE, Terminal.Status.REVOKED
        return {
            (active, revoked): lambda terminal: terminal_revoke(terminal=terminal, staff=self.user),
            (revoked, active): lambda terminal: terminal_reactivate(terminal=terminal, staff=self.user),
        }

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if instance._status_before_import is None and instance.status != Terminal.Status.ACTIVE:
            errors.setdefault("status", []).append(_("A new terminal is registered as active."))
        if errors:
            raise ValidationError(errors)
