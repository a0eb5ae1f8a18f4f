"""What every back-office ModelAdmin shares: an audit trail of every change,
import/export in the formats the secretariat uses, and changelists that stay
fast on a million rows (no full COUNT(*))."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from import_export.admin import ImportExportModelAdmin

from audit.models import AuditEvent
from audit.services import audit_record


class NoCountPaginator(Paginator):
    """Pages without counting the whole table: it reports one page more
    than it has shown while the current page is full."""

    @cached_property
    def count(self):
        page = int(getattr(self, "_current_page", 1) or 1)
        offset = (page - 1) * self.per_page
        fetched = len(self.object_list[offset : offset + self.per_page + 1])
        return offset + fetched

    def page(self, number):
        self._current_page = number
        self.__dict__.pop("count", None)
        self.__dict__.pop("num_pages", None)
        return super().page(number)

    def validate_number(self, number):
        self._current_page = number
        self.__dict__.pop("count", None)
        self.__dict__.pop("num_pages", None)
        return super().validate_number(number)


class AuditedAdminMixin:
    """Mirror Django's admin log into the append-only audit trail, naming
    changed fields but never their values."""

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action=AuditEvent.Action.ADD, obj=obj, detail={"message": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(actor=request.user, action=AuditEvent.Action.CHANGE, obj=obj, detail={"message": message})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action=AuditEvent.Action.DELETE, obj=obj)
        return super().log_deletions(request, queryset)


class BackofficeAdmin(AuditedAdminMixin, ImportExportModelAdmin):
    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50


class ReadOnlyAdmin(admin.ModelAdmin):
    """For the ledger and the audit trail: nobody adds, changes or deletes here."""

    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
