"""The card and card-history admins."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.backoffice import BackofficeAdmin
from common.admin import ReadOnlyAdmin
from members.admin.base import PageDeferringChangeList, can_view_personal_data, defer_related_member
from members.forms import CardCreateForm
from members.models import Card, CardEvent
from members.resources import CardResource
from members.selectors import card_search, member_search
from members.services import (
    card_create,
)


@admin.register(Card)
class CardAdmin(BackofficeAdmin):
    add_form = CardCreateForm
    resource_classes = [CardResource]
    list_display = ["masked_number", "card_type", "status", "member", "created_at"]
    list_filter = ["card_type", "status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["member__pseudonym"]
    search_help_text = _("Exact match on the card number, the transit IC IDm, or the holder's member id.")
    list_select_related = ["member"]
    autocomplete_fields = ["member"]
    ordering = ["-pk"]
    show_facets = admin.ShowFacets.NEVER
    detail_fields = [
        "member",
        "card_type",
        "card_number",
        "status",
        "replaced_by",
        "status_changed_at",
        "first_seen_store_code",
        "created_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member").defer(*defer_related_member("member"))

    def get_changelist(self, request, **kwargs):
        return PageDeferringChangeList

    def get_changelist_deferred_fields(self, request) -> list[str]:
        return ["number"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=card_search(query=search_term).values("pk")), False

    @admin.display(description=_("card number"), ordering="number_last4")
    def masked_number(self, obj: Card) -> str:
        return obj.masked_number

    @admin.display(description=_("card number"))
    def clear_number(self, obj: Card) -> str:
        return obj.number

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["card_type", "number", "member"]})]
        return [(None, {"fields": self.get_detail_fields(request)})]

    def get_detail_fields(self, request) -> list[str]:
        number = "clear_number" if can_view_personal_data(request) else "masked_number"
        return [number if field == "card_number" else field for field in self.detail_fields]

    def get_readonly_fields(self, request, obj=None):
        # After creation a card changes only through services (replacement, blocking, merge).
        return self.get_detail_fields(request) if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            # Model fields of the form; the declared number field comes with it regardless.
            kwargs["fields"] = ["card_type", "member"]
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # The ledger refers to cards; a card ends by being blocked or replaced.
        return False

    def save_model(self, request, obj, form, change):
        card = card_create(
            number=form.cleaned_data["number"],
            card_type=form.cleaned_data["card_type"],
            member=form.cleaned_data.get("member"),
            staff=request.user,
        )
        # The admin goes on with obj (log entry, redirect): make it the card the service created.
        obj.pk = card.pk
        obj.refresh_from_db()
        obj._state.adding = False


@admin.register(CardEvent)
class CardEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "card", "kind", "member", "staff", "note"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter)]
    search_fields = ["member__pseudonym"]
    search_help_text = _("Exact match on the card number, the transit IC IDm, or the member id.")
    list_select_related = ["card", "member", "staff"]
    ordering = ["-pk"]
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        return (
            super().get_queryset(request).defer("card__number", "other_card__number", *defer_related_member("member"))
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        # Both lists are a handful of ids; literal lists keep the OR on indexed columns.
        cards = list(card_search(query=search_term).values_list("pk", flat=True))
        members = list(member_search(query=search_term).values_list("pk", flat=True))
        return queryset.filter(Q(card__in=cards) | Q(member__in=members)), False
