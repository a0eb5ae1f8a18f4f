"""Receipt coupons in the back office: operators set up templates and activate or pause them; everyone
allowed reads the issued coupons (by code or member id) and the report of issues and redemptions.

Every write of a template goes through coupons.services, which records the audit event; the admin's own audit
mirror is skipped for templates so that a change is recorded once. Coupons are history: read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import PromotionAdmin
from common.admin import ReadOnlyAdmin
from common.formatting import datetime_text
from common.privacy import SMALL_GROUP, is_small_group
from common.scoping import narrow_form, register_programme_paths, report_programme_ids
from coupons.forms import CouponTemplateForm, ReportForm
from coupons.models import Coupon, CouponTemplate
from coupons.selectors import Figures, coupon_report
from coupons.services import coupon_code_normalise, coupon_template_save, coupon_template_set_status

register_programme_paths({CouponTemplate: "programme", Coupon: "template__programme"})


@admin.register(CouponTemplate)
class CouponTemplateAdmin(PromotionAdmin):
    form = CouponTemplateForm
    list_display = ["template_name", "status", "benefit_display", "condition_display", "period", "limit_per_member"]
    list_filter = ["status", "benefit", "condition"]
    search_fields = ["name"]
    search_help_text = gettext_lazy("Coupon name.")
    # Nothing related is listed; the programme is a short select on the form.
    list_select_related = []
    autocomplete_fields = []
    actions = ["activate", "pause"]
    change_list_template = "admin/coupons/coupontemplate/change_list.html"
    change_form_template = "admin/coupons/coupontemplate/change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "status"]}),
        (gettext_lazy("What it gives"), {"fields": ["benefit", "discount_yen", "bonus_points", "funder"]}),
        (
            gettext_lazy("Who receives it"),
            {
                "fields": [
                    "condition",
                    "purchases_needed",
                    "within_days",
                    "item_category",
                    "min_amount_yen",
                    "limit_per_member",
                ]
            },
        ),
        (gettext_lazy("When it is issued"), {"fields": ["starts_at", "ends_at"]}),
        (gettext_lazy("Validity and where it can be used"), {"fields": ["valid_days", "store_ids", "categories"]}),
    ]

    # --- the list ------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("coupon name"), ordering="name")
    def template_name(self, template):
        return template.name

    @admin.display(description=gettext_lazy("benefit"))
    def benefit_display(self, template):
        if template.benefit == CouponTemplate.Benefit.BONUS_POINTS:
            return _("+%(points)s points") % {"points": f"{template.bonus_points:,}"}
        return _("%(yen)s yen off") % {"yen": f"{template.discount_yen:,}"}

    @admin.display(description=gettext_lazy("condition"))
    def condition_display(self, template):
        days = template.within_days
        if template.condition == CouponTemplate.Condition.CATEGORY_PURCHASES:
            if days:
                text = _("%(n)s purchases from “%(category)s” within %(days)s days")
            else:
                text = _("%(n)s purchases from “%(category)s”")
        elif days:
            text = _("purchase no. %(n)s at the same store within %(days)s days")
        else:
            text = _("purchase no. %(n)s at the same store")
        return text % {"n": template.purchases_needed, "category": template.item_category, "days": days}

    @admin.display(description=gettext_lazy("issuing period"), ordering="starts_at")
    def period(self, template):
        return f"{datetime_text(template.starts_at)} – {datetime_text(template.ends_at)}"

    # --- writes, all through the services (PromotionAdmin) ------------------------------

    status_messages = {
        CouponTemplate.Status.ACTIVE: (
            "%(count)d coupon template was activated.",
            "%(count)d coupon templates were activated.",
        ),
        CouponTemplate.Status.PAUSED: (
            "%(count)d coupon template was paused.",
            "%(count)d coupon templates were paused.",
        ),
    }

    def promotion_save(self, obj, **kwargs):
        coupon_template_save(template=obj, **kwargs)

    def promotion_set_status(self, obj, **kwargs):
        coupon_template_set_status(template=obj, **kwargs)

    @admin.action(description=gettext_lazy("Activate the selected coupon templates"), permissions=["change"])
    def activate(self, request, queryset):
        self.set_status(request, queryset, CouponTemplate.Status.ACTIVE)

    @admin.action(description=gettext_lazy("Pause the selected coupon templates"), permissions=["change"])
    def pause(self, request, queryset):
        self.set_status(request, queryset, CouponTemplate.Status.PAUSED)

    # --- the report ----------------------------------------------------------------------

    def get_urls(self):
        report = path("report/", self.admin_site.admin_view(self.report_view), name="coupons_report")
        return [report, *super().get_urls()]

    def report_view(self, request):
        """Issued, redeemed and the redemption rate over a period, by template and by store."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportForm(request.GET) if "start" in request.GET else ReportForm.this_month()
        narrow_form(request, form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Coupon report"),
            "form": form,
        }
        if form.is_valid():
            start, end = form.period()
            programme = form.cleaned_data["programme"]
            report = coupon_report(start=start, end=end, programme_ids=report_programme_ids(request, programme))
            context.update(
                report=report,
                last=form.cleaned_data["last"],
                total=_shown(report.total),
                by_template=[(line.template, _shown(line.figures)) for line in report.by_template],
                by_store=[
                    (
                        line.store,
                        _shown(line.figures),
                        _count(line.redeemed_here, line.redeemed_here_members),
                        _count(line.discount_here_yen, line.redeemed_here_members),
                    )
                    for line in report.by_store
                ],
            )
        return TemplateResponse(request, "admin/coupons/report.html", context)


def _count(value: int, members: int) -> str:
    """A figure as the report may show it: "5名未満" for a group of one to four members."""
    return str(SMALL_GROUP) if is_small_group(members) else f"{value:,}"


def _shown(figures: Figures) -> dict:
    hidden = is_small_group(figures.issued_members) or is_small_group(figures.redeemed_members)
    rate = figures.rate_percent
    return {
        "issued": _count(figures.issued, figures.issued_members),
        "redeemed": _count(figures.redeemed, figures.redeemed_members),
        "rate": str(SMALL_GROUP) if hidden else (None if rate is None else f"{rate}%"),
        "discount_yen": _count(figures.discount_yen, figures.redeemed_members),
        "bonus_points": _count(figures.bonus_points, figures.redeemed_members),
    }


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    """Every coupon issued: who got it, where and when, and where it was redeemed."""

    list_display = [
        "printed_code",
        "template",
        "member_pseudonym",
        "status",
        "issued_at",
        "issued_at_store",
        "valid_until",
        "redeemed_at",
        "redeemed_at_store",
    ]
    list_filter = ["status", "template"]
    search_fields = ["code__exact", "member__pseudonym__exact"]
    search_help_text = gettext_lazy("Exact coupon code (e.g. ABCD-EFGH) or member id.")
    list_select_related = ["template", "member", "issued_at_store", "redeemed_at_store"]
    autocomplete_fields = []
    ordering = ["-issued_at", "-id"]
    fields = [
        "printed_code",
        "template",
        "member_pseudonym",
        "status",
        "issued_at",
        "issued_at_store",
        "issued_by",
        "valid_until",
        "redeemed_at",
        "redeemed_at_store",
        "redeemed_by_terminal",
        "bonus",
        "recorded_at",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("code"), ordering="code")
    def printed_code(self, coupon):
        return coupon.printed_code

    @admin.display(description=gettext_lazy("member id"), ordering="member__pseudonym")
    def member_pseudonym(self, coupon):
        return coupon.member.pseudonym

    def get_search_results(self, request, queryset, search_term):
        # A code as printed (ABCD-EFGH) or a member id, typed in lower case or full-width, is still found.
        return super().get_search_results(request, queryset, coupon_code_normalise(search_term))
