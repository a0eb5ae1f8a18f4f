"""The catalogue in the back office: counters and their hours, window rules, items with their stock ledger.

Counters, rules and items are settings, written by the admin and mirrored into the audit trail. Stock is
not: it changes only through exchange.services (received, written off, and the desk's own moves), so the
item's page shows the ledger read-only and offers "receive stock" and "write off" as forms of their own.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import BackofficeAdmin
from common.admin import ReadOnlyAdmin, ReadOnlyInline
from exchange.forms import StockForm
from exchange.models import Counter, CounterHours, Item, StockMove, WindowRule
from exchange.services import stock_receive, stock_write_off
from exchange.windows import next_opening, window_days
from points.errors import LedgerError

# The item list shows recent stock moves on the item's page; older ones are in the stock ledger list.
RECENT_MOVES = 30


def local_moment(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def next_opening_column():
    """The list's "next window" column: one computation per programme for the whole page."""
    now = timezone.now()
    known: dict[int, str] = {}

    def next_window(item) -> str:
        if item.programme_id not in known:
            opening = next_opening(item.programme_id, None, now)
            known[item.programme_id] = local_moment(opening) if opening else _("none scheduled")
        return known[item.programme_id]

    next_window.short_description = gettext_lazy("next window")
    return next_window


class CounterHoursInline(admin.TabularInline):
    model = CounterHours
    extra = 0
    fields = ["weekday", "opens", "closes"]

    def get_extra(self, request, obj=None, **kwargs):
        return 5 if obj is None else 0


@admin.register(Counter)
class CounterAdmin(BackofficeAdmin):
    inlines = [CounterHoursInline]
    list_display = ["name", "programme", "address", "phone", "hours_text", "position", "is_active"]
    list_filter = ["is_active", "programme"]
    search_fields = ["name"]
    list_select_related = ["programme"]
    autocomplete_fields = []
    ordering = ["programme", "position", "pk"]
    fields = ["programme", "name", "address", "phone", "position", "is_active"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("hours")

    @admin.display(description=gettext_lazy("opening hours"))
    def hours_text(self, counter):
        return hours_text(counter.hours.all())

    def has_import_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Exchanges name their counter; a counter that closes for good is made inactive.
        return False


def hours_text(hours) -> str:
    """ "Mon 09:00–17:00, Tue 09:00–17:00" from CounterHours rows."""
    return ", ".join(f"{WEEKDAYS_ABBR[row.weekday]} {row.opens:%H:%M}–{row.closes:%H:%M}" for row in hours)


@admin.register(WindowRule)
class WindowRuleAdmin(BackofficeAdmin):
    list_display = ["name", "programme", "first_day", "last_day", "weekdays_only", "exclude_holidays", "this_month"]
    list_filter = ["is_active", "programme"]
    search_fields = ["name"]
    list_select_related = ["programme"]
    autocomplete_fields = []
    fields = ["programme", "name", "first_day", "last_day", "weekdays_only", "exclude_holidays", "is_active"]

    @admin.display(description=gettext_lazy("open days this month"))
    def this_month(self, rule):
        today = timezone.localdate()
        days = window_days(rule, today.year, today.month)
        return ", ".join(str(day.day) for day in days) or "—"

    def has_import_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Windows already passed identify exchanges' limits; a rule no longer wanted is made inactive.
        return False


class RecentMovesFormSet(forms.BaseInlineFormSet):
    """The item's latest stock moves only: a busy item has thousands; the stock ledger list has them all."""

    def get_queryset(self):
        if not hasattr(self, "_recent"):
            self._recent = list(super().get_queryset().order_by("-created_at", "-pk")[:RECENT_MOVES])
        return self._recent


class StockMoveInline(ReadOnlyInline):
    model = StockMove
    formset = RecentMovesFormSet
    fields = ["created_at", "kind", "quantity", "exchange", "staff", "reason"]
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("recent stock moves")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("exchange", "staff")


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = [
            "programme",
            "name",
            "description",
            "face_value_yen",
            "price_points",
            "first_come_per_window",
            "limit_per_member_window",
            "limit_per_member_year",
            "active_from",
            "active_until",
            "counters",
            "position",
            "is_active",
        ]
        widgets = {
            "counters": forms.CheckboxSelectMultiple,
            "active_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "active_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "counters" in self.fields:
            self.fields["counters"].queryset = Counter.objects.filter(is_active=True).select_related("programme")

    def clean(self):
        cleaned = super().clean()
        programme = cleaned.get("programme")
        stray = [
            counter for counter in cleaned.get("counters") or [] if programme and counter.programme_id != programme.pk
        ]
        if stray:
            self.add_error("counters", _("Choose counters of the item's own programme."))
        starts, ends = cleaned.get("active_from"), cleaned.get("active_until")
        if starts and ends and ends < starts:
            self.add_error("active_until", _("The last day comes before the first."))
        return cleaned


@admin.register(Item)
class ItemAdmin(BackofficeAdmin):
    form = ItemForm
    inlines = [StockMoveInline]
    list_display = [
        "name",
        "programme",
        "price_points",
        "face_value_yen",
        "stock_on_hand",
        "limits",
        "collectable_at",
        "next_window",
        "is_active",
    ]
    list_filter = ["is_active", "programme", "counters"]
    search_fields = ["name"]
    list_select_related = ["programme"]
    autocomplete_fields = []
    ordering = ["programme", "position", "pk"]
    readonly_fields = ["stock_on_hand"]
    actions = ["receive_stock", "write_off_stock"]
    change_form_template = "admin/exchange/item/change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "description", "position", "is_active"]}),
        (gettext_lazy("Price"), {"fields": ["price_points", "face_value_yen"]}),
        (gettext_lazy("Stock"), {"fields": ["stock_on_hand", "first_come_per_window"]}),
        (
            gettext_lazy("Limits per member"),
            {"fields": ["limit_per_member_window", "limit_per_member_year"]},
        ),
        (gettext_lazy("When and where"), {"fields": ["active_from", "active_until", "counters"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("counters")

    # --- the list ------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("limits"))
    def limits(self, item):
        return limits_text(item) or "—"

    @admin.display(description=gettext_lazy("collectable at"))
    def collectable_at(self, item):
        return ", ".join(counter.name for counter in item.counters.all()) or _("every counter")

    @admin.display(description=gettext_lazy("next window"))
    def next_window(self, item):
        return next_opening_column()(item)

    def get_list_display(self, request):
        # The list computes the next window once per programme, not once per row.
        return [next_opening_column() if column == "next_window" else column for column in self.list_display]

    # --- writes --------------------------------------------------------------------------

    def has_import_permission(self, request):
        # An import would write stock_on_hand around the stock ledger.
        return False

    def has_delete_permission(self, request, obj=None):
        # Exchange lines and stock moves refer to items; an item no longer offered is made inactive.
        return False

    @admin.action(description=gettext_lazy("Receive stock for the selected item"), permissions=["change"])
    def receive_stock(self, request, queryset):
        return self._stock_action(request, queryset, "receive")

    @admin.action(description=gettext_lazy("Write off stock of the selected item"), permissions=["change"])
    def write_off_stock(self, request, queryset):
        return self._stock_action(request, queryset, "write_off")

    def _stock_action(self, request, queryset, kind: str):
        items = list(queryset[:2])
        if len(items) != 1:
            self.message_user(request, _("Choose exactly one item."), messages.WARNING)
            return None
        return redirect(reverse(f"admin:exchange_item_{kind}", args=[items[0].pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/receive/", view(self.receive_view), name="exchange_item_receive"),
            path("<path:object_id>/write-off/", view(self.write_off_view), name="exchange_item_write_off"),
            *super().get_urls(),
        ]

    def receive_view(self, request, object_id):
        return self._stock_view(request, object_id, write_off=False)

    def write_off_view(self, request, object_id):
        return self._stock_view(request, object_id, write_off=True)

    def _stock_view(self, request, object_id, *, write_off: bool):
        item = self.get_object(request, unquote(object_id))
        if item is None or not self.has_change_permission(request, item):
            raise PermissionDenied
        form = StockForm(request.POST or None, write_off=write_off)
        if request.method == "POST" and form.is_valid():
            quantity, reason = form.cleaned_data["quantity"], form.cleaned_data["reason"]
            try:
                if write_off:
                    stock_write_off(item=item, quantity=quantity, staff=request.user, reason=reason)
                else:
                    stock_receive(item=item, quantity=quantity, staff=request.user, reason=reason)
            except LedgerError as error:
                form.add_error(None, str(error))
            else:
                item.refresh_from_db(fields=["stock_on_hand"])
                self.message_user(
                    request,
                    _("%(item)s: %(stock)s in stock now.") % {"item": item.name, "stock": f"{item.stock_on_hand:,}"},
                )
                return redirect(reverse("admin:exchange_item_change", args=[item.pk]))
        title = _("Write off stock of %(item)s") if write_off else _("Receive stock of %(item)s")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": item,
            "title": title % {"item": item.name},
            "form": form,
            "submit_label": _("Write off") if write_off else _("Receive"),
            "here": _("Write off") if write_off else _("Receive stock"),
        }
        return TemplateResponse(request, "admin/exchange/item/stock.html", context)


def limits_text(item: Item) -> str:
    parts = []
    if item.limit_per_member_window:
        parts.append(_("%(n)s per member per window") % {"n": item.limit_per_member_window})
    if item.limit_per_member_year:
        parts.append(_("%(n)s per member per year") % {"n": item.limit_per_member_year})
    if item.first_come_per_window:
        parts.append(_("first %(n)s per window") % {"n": item.first_come_per_window})
    return ", ".join(parts)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    """The stock ledger: every unit received, set aside, handed over, returned or written off."""

    list_display = ["created_at", "item", "kind", "quantity", "exchange", "staff", "reason"]
    list_filter = ["kind", "item"]
    search_fields = ["exchange__serial__exact", "reason"]
    search_help_text = gettext_lazy("Exact exchange serial, or words of the reason.")
    list_select_related = ["item", "exchange", "staff"]
    autocomplete_fields = []
    ordering = ["-created_at", "-pk"]
