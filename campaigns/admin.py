"""Campaigns in the back office: operators set them up, see a forecast before activating, activate and
pause them; everyone allowed reads which bonuses they gave and why.

Every write goes through campaigns.services, which records the audit event (creation, activation,
changes to a running campaign); the admin's own audit mirror is skipped for campaigns so that a change
is recorded once.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import PromotionAdmin
from campaigns.forecast import campaign_forecast
from campaigns.forms import CampaignForm, ForecastForm
from campaigns.models import Campaign, CampaignApplication
from campaigns.services import campaign_save, campaign_set_status
from common.admin import ReadOnlyAdmin
from common.formatting import datetime_text
from common.scoping import register_programme_paths
from members.models import Member
from points.models import Funder
from stores.models import Store

register_programme_paths({Campaign: "programme", CampaignApplication: "campaign__programme"})


def _field_label(name: str):
    return Campaign._meta.get_field(name).verbose_name


# For those who may only read a campaign: its lists as words, not as the JSON the rules read.
READABLE_LISTS = {
    "weekdays": "weekdays_text",
    "store_ids": "stores_text",
    "excluded_store_ids": "excluded_stores_text",
    "categories": "categories_text",
    "excluded_categories": "excluded_categories_text",
    "genders": "genders_text",
    "postal_prefixes": "postal_prefixes_text",
    "item_categories": "item_categories_text",
}


def _joined(values) -> str | None:
    return ", ".join(str(value) for value in values) or None


@admin.register(Campaign)
class CampaignAdmin(PromotionAdmin):
    form = CampaignForm
    list_display = [
        "campaign_name",
        "status",
        "period",
        "amount",
        "budget",
        "funder",
        "priority",
        "exclusive",
    ]
    list_filter = ["status", "funder", "kind"]
    search_fields = ["name"]
    search_help_text = gettext_lazy("Campaign name.")
    # Nothing related is listed; the programme is a short select on the form.
    list_select_related = []
    autocomplete_fields = []
    actions = ["activate", "pause"]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    readonly_fields = ["budget_used"]
    fieldsets = [
        (None, {"fields": ["programme", "name", "status", "kind", "multiplier_percent", "fixed_points"]}),
        (gettext_lazy("When"), {"fields": ["starts_at", "ends_at", "weekdays", "hour_from", "hour_to"]}),
        (
            gettext_lazy("Where"),
            {"fields": ["store_ids", "excluded_store_ids", "categories", "excluded_categories"]},
        ),
        (
            gettext_lazy("Who"),
            {
                "fields": [
                    "genders",
                    "age_min",
                    "age_max",
                    "postal_prefixes",
                    "registered",
                    "birthday_month",
                    "min_rank",
                ]
            },
        ),
        (
            gettext_lazy("Which purchases"),
            {"fields": ["min_amount_yen", "first_purchase_at_store", "item_categories"]},
        ),
        (
            gettext_lazy("Budget and funding"),
            {
                "fields": [
                    "budget_points",
                    "budget_used",
                    "cap_per_member_day",
                    "cap_per_member",
                    "funder",
                    "usable_only_at",
                ]
            },
        ),
        (gettext_lazy("With other campaigns"), {"fields": ["priority", "exclusive"]}),
    ]

    # --- the list ------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("campaign name"), ordering="name")
    def campaign_name(self, campaign):
        return campaign.name

    @admin.display(description=gettext_lazy("period"), ordering="starts_at")
    def period(self, campaign):
        return f"{datetime_text(campaign.starts_at)} – {datetime_text(campaign.ends_at)}"

    @admin.display(description=gettext_lazy("bonus"))
    def amount(self, campaign):
        if campaign.kind == Campaign.Kind.FIXED:
            return _("+%(points)s points") % {"points": f"{campaign.fixed_points:,}"}
        return _("%(percent)s%% of base points") % {"percent": campaign.multiplier_percent}

    @admin.display(description=gettext_lazy("budget used / total (points)"))
    def budget(self, campaign):
        total = _("no limit") if campaign.budget_points is None else f"{campaign.budget_points:,}"
        return f"{campaign.budget_used:,} / {total}"

    # --- the page of those who may only read it -------------------------------------------

    def _read_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        if not self._read_only(request, obj):
            return self.fieldsets
        return [
            (title, {**options, "fields": [READABLE_LISTS.get(name, name) for name in options["fields"]]})
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if self._read_only(request, obj):
            return [*self.readonly_fields, *READABLE_LISTS.values()]
        return self.readonly_fields

    @admin.display(description=_field_label("weekdays"))
    def weekdays_text(self, campaign):
        return _joined(WEEKDAYS_ABBR[day] for day in campaign.weekdays)

    @admin.display(description=_field_label("store_ids"))
    def stores_text(self, campaign):
        return _joined(Store.objects.filter(pk__in=campaign.store_ids).order_by("code"))

    @admin.display(description=_field_label("excluded_store_ids"))
    def excluded_stores_text(self, campaign):
        return _joined(Store.objects.filter(pk__in=campaign.excluded_store_ids).order_by("code"))

    @admin.display(description=_field_label("categories"))
    def categories_text(self, campaign):
        return _joined(dict(Store.Category.choices).get(category, category) for category in campaign.categories)

    @admin.display(description=_field_label("excluded_categories"))
    def excluded_categories_text(self, campaign):
        return _joined(
            dict(Store.Category.choices).get(category, category) for category in campaign.excluded_categories
        )

    @admin.display(description=_field_label("genders"))
    def genders_text(self, campaign):
        return _joined(dict(Member.Gender.choices).get(gender, gender) for gender in campaign.genders)

    @admin.display(description=_field_label("postal_prefixes"))
    def postal_prefixes_text(self, campaign):
        return _joined(campaign.postal_prefixes)

    @admin.display(description=_field_label("item_categories"))
    def item_categories_text(self, campaign):
        return _joined(campaign.item_categories)

    # --- writes, all through the services (PromotionAdmin) ------------------------------

    status_messages = {
        Campaign.Status.ACTIVE: ("%(count)d campaign was activated.", "%(count)d campaigns were activated."),
        Campaign.Status.PAUSED: ("%(count)d campaign was paused.", "%(count)d campaigns were paused."),
    }

    def promotion_save(self, obj, **kwargs):
        campaign_save(campaign=obj, **kwargs)

    def promotion_set_status(self, obj, **kwargs):
        campaign_set_status(campaign=obj, **kwargs)

    @admin.action(description=gettext_lazy("Activate the selected campaigns"), permissions=["change"])
    def activate(self, request, queryset):
        self.set_status(request, queryset, Campaign.Status.ACTIVE)

    @admin.action(description=gettext_lazy("Pause the selected campaigns"), permissions=["change"])
    def pause(self, request, queryset):
        self.set_status(request, queryset, Campaign.Status.PAUSED)

    # --- the forecast --------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/forecast/", view(self.forecast_view), name="campaigns_campaign_forecast"),
            path("<path:object_id>/activate/", view(self.activate_view), name="campaigns_campaign_activate"),
            *super().get_urls(),
        ]

    def _campaign(self, request, object_id) -> Campaign:
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None or not self.has_view_or_change_permission(request, campaign):
            raise PermissionDenied
        return campaign

    def forecast_view(self, request, object_id):
        campaign = self._campaign(request, object_id)
        form = ForecastForm(request.GET if "weeks" in request.GET else None)
        if form.is_bound:
            weeks = form.cleaned_data["weeks"] if form.is_valid() else None
        else:
            weeks = form.fields["weeks"].initial
        forecast = campaign_forecast(campaign=campaign, weeks=weeks) if weeks else None
        funders = dict(Funder.choices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": campaign,
            "title": _("Forecast of %(campaign)s") % {"campaign": campaign.name},
            "form": form,
            "forecast": forecast,
            "figures": self._figures(forecast) if forecast else [],
            "by_funder": [
                {"funder": funders.get(funder, funder), "points": f"{points:,}"}
                for funder, points in sorted((forecast.by_funder if forecast else {}).items())
            ],
            "can_activate": campaign.status != Campaign.Status.ACTIVE and self.has_change_permission(request, campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/forecast.html", context)

    @staticmethod
    def _figures(forecast) -> list[dict]:
        rows = [
            ("transactions", _("Purchases replayed"), forecast.transactions),
            ("matched", _("Purchases the campaign applies to"), forecast.matched),
            ("bonus", _("Bonus points"), forecast.bonus_points),
            ("members", _("Members reached"), forecast.members),
            ("cost", _("Cost (yen)"), forecast.cost_yen),
        ]
        return [{"id": f"forecast-{key}", "label": label, "value": f"{value:,}"} for key, label, value in rows]

    def activate_view(self, request, object_id):
        # The campaign first: another programme's answers 404 whatever the method.
        campaign = self._campaign(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        if campaign.status != Campaign.Status.ACTIVE:
            campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE, staff=request.user)
            self.message_user(request, _("The campaign “%(name)s” is active.") % {"name": campaign.name})
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))


@admin.register(CampaignApplication)
class CampaignApplicationAdmin(ReadOnlyAdmin):
    """Why a member got a bonus: each campaign's bonus on each earning, with the conditions it met."""

    list_display = ["campaign", "member_pseudonym", "day", "points", "reason"]
    list_filter = ["campaign"]
    search_fields = ["member__pseudonym", "campaign__name"]
    search_help_text = gettext_lazy("Member id or campaign name.")
    list_select_related = ["campaign", "member"]
    fields = ["campaign", "member_pseudonym", "day", "points", "reason", "earn", "bonus", "created_at"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("member id"), ordering="member__pseudonym")
    def member_pseudonym(self, application):
        return application.member.pseudonym
