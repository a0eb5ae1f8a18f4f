"""Admin pieces with no audit trail of their own: changelists that stay fast on a million rows (no full
COUNT(*)) and read-only pages. The audited back-office base (every change in the audit trail, import and
export in the secretariat's formats) is audit.backoffice.BackofficeAdmin."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property


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


class NoWritesMixin:
    """Nobody adds, changes or deletes through this admin or inline, whatever their permissions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoWritesMixin, admin.ModelAdmin):
    """For the ledger and the audit trail: nobody adds, changes or deletes here."""

    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    """Rows shown on their parent's page, never edited there (cards, history, statement lines)."""

    extra = 0
    can_delete = False
