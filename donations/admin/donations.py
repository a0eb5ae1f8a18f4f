"""Donations, read-only: each is a ledger entry and the record of who gave what to whom; a donation is
made through the service (the desk, the member site), never edited here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from common.admin import ReadOnlyAdmin
from donations.models import Donation


class SettledFilter(admin.SimpleListFilter):
    title = gettext_lazy("settlement")
    parameter_name = "settled"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Settled")), ("no", gettext_lazy("Not settled yet"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(settlement__isnull=False)
        if self.value() == "no":
            return queryset.filter(settlement__isnull=True)
        return queryset


@admin.register(Donation)
class DonationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organisation", "member", "points", "channel", "staff", "settlement"]
    list_filter = [SettledFilter, "channel", "organisation"]
    date_hierarchy = "created_at"
    search_fields = ["=member__pseudonym", "organisation__name"]
    search_help_text = gettext_lazy("Exact member id, or organisation name.")
    list_select_related = ["organisation", "member", "staff", "settlement__organisation"]
    fields = ["created_at", "organisation", "member", "points", "channel", "staff", "entry", "settlement"]
    readonly_fields = fields
