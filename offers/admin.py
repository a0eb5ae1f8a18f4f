"""Card-linked offers in the back office: the secretariat creates offers for merchants, publishes and stops
them, and reads activations, card transactions and redemptions with what returns took back (history,
read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from audit.backoffice import PromotionAdmin
from common.admin import ReadOnlyAdmin
from common.privacy import masked
from common.scoping import register_programme_paths
from offers import selectors
from offers.forms import OfferForm
from offers.models import Activation, CardTransaction, Offer, OfferPolicy, PaymentCard, Redemption, Reversal
from offers.services import offer_publish, offer_save, offer_stop

register_programme_paths(
    {
        Offer: "programme",
        Activation: "offer__programme",
        Redemption: "offer__programme",
        CardTransaction: "store__participation__programme",
        PaymentCard: "member__accounts__programme",
        OfferPolicy: "programme",
    }
)


@admin.register(Offer)
class OfferAdmin(PromotionAdmin):
    form = OfferForm
    list_display = ["title", "merchant", "status", "starts_at", "ends_at", "benefit", "budget", "budget_used"]
    list_filter = ["status", "benefit"]
    search_fields = ["title"]
    readonly_fields = ["budget_used", "reach"]
    filter_horizontal = ["stores"]
    actions = ["publish", "stop"]
    status_messages = {
        Offer.Status.PUBLISHED: ("%(count)d offer was published.", "%(count)d offers were published."),
        Offer.Status.STOPPED: ("%(count)d offer was stopped.", "%(count)d offers were stopped."),
    }

    @admin.display(description=gettext_lazy("members reached"))
    def reach(self, offer):
        reach = selectors.offer_reach(offer=offer) if offer.pk else 0
        return masked(reach, reach)

    def promotion_save(self, obj, *, staff, changed):
        offer_save(offer=obj, staff=staff)

    def promotion_set_status(self, obj, *, status, staff):
        (offer_publish if status == Offer.Status.PUBLISHED else offer_stop)(offer=obj, staff=staff)

    @admin.action(description=gettext_lazy("Publish the selected offers"), permissions=["change"])
    def publish(self, request, queryset):
        self.set_status(request, queryset, Offer.Status.PUBLISHED)

    @admin.action(description=gettext_lazy("Stop the selected offers"), permissions=["change"])
    def stop(self, request, queryset):
        self.set_status(request, queryset, Offer.Status.STOPPED)


@admin.register(Activation)
class ActivationAdmin(ReadOnlyAdmin):
    list_display = ["offer", "member", "activated_at", "uses"]
    list_select_related = ["offer", "member"]


class ReversalInline(admin.TabularInline):
    """What returns after payment took back of the benefit (history, read-only)."""

    model = Reversal
    fields = readonly_fields = ["recorded_at", "benefit", "whole", "fee_yen", "points_entry"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["offer", "store", "amount_yen", "benefit", "fee_yen", "occurred_at", "due_on", "status"]
    list_filter = ["status"]
    list_select_related = ["offer", "store"]
    inlines = [ReversalInline]


@admin.register(CardTransaction)
class CardTransactionAdmin(ReadOnlyAdmin):
    list_display = ["transaction_id", "store", "amount_yen", "occurred_at", "original", "file_name"]
    list_select_related = ["store", "original"]
    search_fields = ["transaction_id"]


@admin.register(PaymentCard)
class PaymentCardAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "member", "created_at"]
    list_select_related = ["member"]


@admin.register(OfferPolicy)
class OfferPolicyAdmin(admin.ModelAdmin):
    list_display = ["programme", "portal_creation", "fee_per_redemption_yen"]
