"""Billing adjustments: corrections for a store's next statement. Once a statement carries one, it is
part of an issued document and read-only."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.admin.forms import BillingAdjustmentForm
from billing.models import BillingAdjustment
from billing.services.adjustments import (
    AdjustmentError,
    billing_adjustment_change,
    billing_adjustment_create,
    billing_adjustment_delete,
)
from common.admin import NoCountPaginator


class AppliedFilter(admin.SimpleListFilter):
    title = _("statement")
    parameter_name = "applied"

    def lookups(self, request, model_admin):
        return [("no", _("Waiting for the next close")), ("yes", _("On a statement"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(applied_in__isnull=True)
        if self.value() == "yes":
            return queryset.filter(applied_in__isnull=False)
        return queryset


@admin.register(BillingAdjustment)
class BillingAdjustmentAdmin(admin.ModelAdmin):
    """Every write goes through billing.services.adjustments, which records the audit event."""

    form = BillingAdjustmentForm
    list_display = ["created_at", "store", "amount_yen", "tax", "reason", "corrects", "applied_in", "created_by"]
    list_filter = [AppliedFilter, "tax"]
    search_fields = ["store__code", "store__name", "reason", "corrects__number", "applied_in__number"]
    search_help_text = _("Store code or name, a word of the reason, or a statement number.")
    list_select_related = ["store", "corrects", "applied_in", "created_by"]
    autocomplete_fields = ["store", "corrects"]
    fields = ["store", "amount_yen", "tax", "reason", "corrects", "applied_in", "created_by", "created_at"]
    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        # The store of an adjustment never changes: withdraw it and record another.
        return ["applied_in", "created_by", "created_at", *(["store"] if obj is not None else [])]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.applied_in_id is None)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.applied_in_id is None)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {
            "amount_yen": data["amount_yen"],
            "tax": data["tax"],
            "reason": data["reason"],
            "corrects": data.get("corrects"),
            "staff": request.user,
        }
        if change:
            saved = billing_adjustment_change(adjustment=obj, **values)
        else:
            saved = billing_adjustment_create(store=data["store"], **values)
        # The admin goes on with the object it was given (messages, redirect); let it be the saved one.
        obj.pk, obj.created_by_id, obj.created_at = saved.pk, saved.created_by_id, saved.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        billing_adjustment_delete(adjustment=obj, staff=request.user)

    def delete_queryset(self, request, queryset):
        for adjustment in queryset:
            try:
                billing_adjustment_delete(adjustment=adjustment, staff=request.user)
            except AdjustmentError as error:
                self.message_user(request, str(error), messages.ERROR)
