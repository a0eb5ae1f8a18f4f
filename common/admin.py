"""Admin pieces with no audit trail of their own: changelists that stay fast on a million rows and still say
how long they are (no full COUNT(*)), amounts and dates formatted in every list (UnitsInListMixin), sidebar
filters that are small forms (FormFilter), and read-only pages. The audited back-office base (every change
in the audit trail, import and export in the secretariat's formats) is audit.backoffice.BackofficeAdmin."""

import json

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from common.formatting import date_text, datetime_text, points_text, yen_text

# Up to this many rows a list counts them (a bounded COUNT over at most this many rows); above it the
# total is PostgreSQL's planner estimate, marked 約, or "more than" where there is no estimate.
EXACT_COUNT_UP_TO = 10_000


class NoCountPaginator(Paginator):
    """Pages without counting the whole table. A list of up to EXACT_COUNT_UP_TO rows is counted (a bounded
    count, which never reads more rows than that); a longer one pages by looking one row ahead (one page
    more than it has shown while the current page is full) and says its size as PostgreSQL estimates it:
    `total_label` is what the admin's list shows ("5,000件", "約 1,200,000件")."""

    @cached_property
    def bounded_count(self) -> int:
        return self.object_list.order_by().values("pk")[: EXACT_COUNT_UP_TO + 1].count()

    @cached_property
    def count(self):
        if self.bounded_count <= EXACT_COUNT_UP_TO:
            return self.bounded_count
        page = int(getattr(self, "_current_page", 1) or 1)
        return self._seen_up_to(page)

    def _seen_up_to(self, page: int) -> int:
        """Rows up to the end of this page, and one more if there is one (read once per page: the changelist
        asks the count three times while it pages)."""
        seen = self.__dict__.setdefault("_seen", {})
        if page not in seen:
            offset = (page - 1) * self.per_page
            seen[page] = offset + len(self.object_list.values("pk")[offset : offset + self.per_page + 1])
        return seen[page]

    @cached_property
    def total_label(self) -> str:
        if self.bounded_count <= EXACT_COUNT_UP_TO:
            return _("%(count)s rows") % {"count": f"{self.bounded_count:,}"}
        estimate = planner_estimate(self.object_list)
        if estimate is None:
            return _("more than %(count)s rows") % {"count": f"{EXACT_COUNT_UP_TO:,}"}
        # Rounded to three figures: an estimate pretends no more.
        estimate = max(estimate, EXACT_COUNT_UP_TO + 1)
        return _("about %(count)s rows") % {"count": f"{round(estimate, 3 - len(str(estimate))):,}"}

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


def planner_estimate(queryset) -> int | None:
    """How many rows PostgreSQL's planner expects the query to return (from its statistics, without reading
    the rows); None on other databases."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


# Integer columns shown with a unit, by name: amounts in yen end in _yen; points are these or end in _points.
POINT_COLUMNS = frozenset({"points", "balance", "debt", "remaining"})


def _column_format(field):
    """How a list shows a model field's values: amounts with their unit, dates in the one date style; None
    for Django's own display."""
    if isinstance(field, models.DateTimeField):
        return datetime_text
    if isinstance(field, models.DateField):
        return date_text
    if not isinstance(field, models.IntegerField) or field.choices:
        return None
    if field.name.endswith("_yen"):
        return yen_text
    if field.name in POINT_COLUMNS or field.name.endswith("_points"):
        return points_text
    return None


class UnitsInListMixin:
    """Changelists show amounts as "3,144円" and "254 pt", and dates as 2026/12/03, whatever the column: a
    model field named in list_display is shown through common.formatting, still sortable by its column."""

    def get_list_display(self, request):
        return [self._formatted_column(name) for name in super().get_list_display(request)]

    def _formatted_column(self, name):
        if not isinstance(name, str) or name in (self.list_editable or ()):
            return name
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        show = _column_format(field)
        if show is None:
            return name

        def column(obj):
            value = getattr(obj, name)
            return None if value is None else show(value)

        column.__name__ = name
        column.short_description = field.verbose_name
        column.admin_order_field = name
        return column

    def get_list_display_links(self, request, list_display):
        # A link named by its field is on that field's formatted column.
        links = super().get_list_display_links(request, list_display)
        if not links:
            return links
        columns = {column.__name__: column for column in list_display if callable(column)}
        return [columns.get(link, link) if isinstance(link, str) else link for link in links]


class FormFilter(admin.ListFilter):
    """A sidebar filter that is a small form (a range of amounts or dates, a code typed in): subclasses set
    `form_class` (whose fields are the query parameters) and filter in `filter(queryset, cleaned_data)`.
    The form keeps the other filters and the search as hidden fields."""

    template = "admin/form_filter.html"
    form_class: type = None

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.expected_parameters():
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value
        self.form = self.form_class(self.used_parameters or None, prefix=None)

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.form_class.base_fields)

    def choices(self, changelist):
        parameters = self.expected_parameters()
        kept = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in parameters
            for value in values
        ]
        yield {"form": self.form, "kept": kept, "clear": changelist.get_query_string(remove=parameters)}

    def queryset(self, request, queryset):
        if not self.used_parameters or not self.form.is_valid():
            return queryset
        return self.filter(queryset, self.form.cleaned_data)

    def filter(self, queryset, cleaned_data):
        raise NotImplementedError


class NoWritesMixin:
    """Nobody adds, changes or deletes through this admin or inline, whatever their permissions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoWritesMixin, UnitsInListMixin, admin.ModelAdmin):
    """For the ledger and the audit trail: nobody adds, changes or deletes here."""

    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    """Rows shown on their parent's page, never edited there (cards, history, statement lines)."""

    extra = 0
    can_delete = False
