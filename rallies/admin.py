"""Point rallies in the back office: operators set up rallies and their goals; the secretariat reads the
results (participants, stamps per store, completion funnel) and draws prize winners; stamps, rewards and
draws are history, read-only for everyone.

Every write goes through rallies.services, which records the audit event; the admin's own audit mirror is
skipped for rallies so that a change is recorded once.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import PromotionAdmin
from common.admin import ReadOnlyAdmin, ReadOnlyInline
from common.formatting import datetime_text
from common.privacy import shown_count
from common.scoping import register_programme_paths
from rallies.forms import DrawForm, RallyForm, RallyGoalForm, RallyGoalFormSet
from rallies.models import Draw, DrawWinner, GoalReached, Rally, RallyGoal, Stamp
from rallies.selectors import rally_funnel, rally_goal_results, rally_participants, rally_stamps_per_store
from rallies.services import rally_draw, rally_goals_save, rally_save, rally_set_status

register_programme_paths(
    {
        Rally: "programme",
        RallyGoal: "rally__programme",
        Stamp: "rally__programme",
        GoalReached: "goal__rally__programme",
        Draw: "rally__programme",
        DrawWinner: "draw__rally__programme",
    }
)


class RallyGoalInline(admin.StackedInline):
    model = RallyGoal
    form = RallyGoalForm
    formset = RallyGoalFormSet
    extra = 0
    fields = ["position", "name", "kind", "target", "area_store_ids", "reward", "bonus_points", "funder"]

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None else 1


@admin.register(Rally)
class RallyAdmin(PromotionAdmin):
    form = RallyForm
    inlines = [RallyGoalInline]
    list_display = ["rally_name", "status", "period", "store_count", "stamp_per", "min_amount_yen"]
    list_filter = ["status", "stamp_per"]
    search_fields = ["name"]
    search_help_text = gettext_lazy("Rally name.")
    # Nothing related is listed; the programme is a short select on the form.
    list_select_related = []
    autocomplete_fields = []
    actions = ["activate", "close"]
    change_form_template = "admin/rallies/rally/change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "status"]}),
        (gettext_lazy("When"), {"fields": ["starts_at", "ends_at"]}),
        (gettext_lazy("Where and which purchases"), {"fields": ["store_ids", "min_amount_yen", "stamp_per"]}),
    ]

    # --- the list ------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("rally name"), ordering="name")
    def rally_name(self, rally):
        return rally.name

    @admin.display(description=gettext_lazy("period"), ordering="starts_at")
    def period(self, rally):
        return f"{datetime_text(rally.starts_at)} – {datetime_text(rally.ends_at)}"

    @admin.display(description=gettext_lazy("stores"))
    def store_count(self, rally):
        return len(rally.store_ids or [])

    # --- writes, all through the services (PromotionAdmin) ------------------------------

    status_messages = {
        Rally.Status.ACTIVE: ("%(count)d rally was activated.", "%(count)d rallies were activated."),
        Rally.Status.CLOSED: ("%(count)d rally was ended.", "%(count)d rallies were ended."),
    }

    def promotion_save(self, obj, **kwargs):
        rally_save(rally=obj, **kwargs)

    def promotion_set_status(self, obj, **kwargs):
        rally_set_status(rally=obj, **kwargs)

    def save_formset(self, request, form, formset, change):
        goals = formset.save(commit=False)
        rally_goals_save(rally=form.instance, goals=goals, deleted=formset.deleted_objects, staff=request.user)

    @admin.action(description=gettext_lazy("Activate the selected rallies"), permissions=["change"])
    def activate(self, request, queryset):
        self.set_status(request, queryset, Rally.Status.ACTIVE)

    @admin.action(description=gettext_lazy("End the selected rallies"), permissions=["change"])
    def close(self, request, queryset):
        self.set_status(request, queryset, Rally.Status.CLOSED)

    # --- the report and the draw -----------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/report/", view(self.report_view), name="rallies_rally_report"),
            path("<path:object_id>/draw/", view(self.draw_view), name="rallies_rally_draw"),
            *super().get_urls(),
        ]

    def _rally(self, request, object_id) -> Rally:
        rally = self.get_object(request, unquote(object_id))
        if rally is None or not self.has_view_or_change_permission(request, rally):
            raise PermissionDenied
        return rally

    def _context(self, request, rally: Rally, title: str) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, "original": rally, "title": title}

    def report_view(self, request, object_id):
        rally = self._rally(request, object_id)
        results = rally_goal_results(rally=rally)
        context = {
            **self._context(request, rally, _("Results of %(rally)s") % {"rally": rally.name}),
            "participants": shown_count(rally_participants(rally=rally)),
            "goals": [
                {
                    "goal": result.goal,
                    "members": shown_count(result.members),
                    "bonus_points": result.bonus_points if shown_count(result.members) is not None else None,
                    "funnel": [
                        {"step": step, "members": shown_count(members)}
                        for step, members in rally_funnel(goal=result.goal)
                    ],
                }
                for result in results
            ],
            "stores": [
                {
                    "store": row.store,
                    "stamps": row.stamps if shown_count(row.members) is not None else None,
                    "members": shown_count(row.members),
                }
                for row in rally_stamps_per_store(rally=rally)
            ],
            "can_draw": request.user.has_perm("rallies.add_draw"),
        }
        return TemplateResponse(request, "admin/rallies/rally/report.html", context)

    def draw_view(self, request, object_id):
        rally = self._rally(request, object_id)
        if not request.user.has_perm("rallies.add_draw"):
            raise PermissionDenied
        if request.method == "POST":
            form = DrawForm(request.POST, rally=rally)
            if form.is_valid():
                draw = rally_draw(
                    goal=form.cleaned_data["goal"],
                    winners=form.cleaned_data["winners"],
                    seed=form.cleaned_data["seed"],
                    staff=request.user,
                )
                self.message_user(
                    request,
                    _("%(count)s winners drawn among %(eligible)s members with the seed %(seed)s.")
                    % {"count": draw.winners.count(), "eligible": draw.eligible_count, "seed": draw.seed},
                )
                return redirect(reverse("admin:rallies_draw_change", args=[draw.pk]))
        else:
            form = DrawForm(initial=request.GET.dict() or None, rally=rally)
        context = {
            **self._context(request, rally, _("Prize draw of %(rally)s") % {"rally": rally.name}),
            "form": form,
            "draws": rally.draws.select_related("goal", "drawn_by")[:50],
        }
        return TemplateResponse(request, "admin/rallies/rally/draw.html", context)


@admin.register(Stamp)
class StampAdmin(ReadOnlyAdmin):
    list_display = ["rally", "member", "store", "day", "rule", "stamped_at", "voided_at"]
    list_filter = ["rally", "rule", ("voided_at", admin.EmptyFieldListFilter)]
    search_fields = ["member__pseudonym"]
    search_help_text = gettext_lazy("Member id.")
    list_select_related = ["rally", "member", "store"]
    autocomplete_fields = []


@admin.register(GoalReached)
class GoalReachedAdmin(ReadOnlyAdmin):
    list_display = ["goal", "rally", "member", "reward", "reached_at", "revoked_at"]
    list_filter = ["goal__rally", "reward", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["member__pseudonym"]
    search_help_text = gettext_lazy("Member id.")
    list_select_related = ["goal__rally", "member"]
    autocomplete_fields = []

    @admin.display(description=gettext_lazy("rally"), ordering="goal__rally")
    def rally(self, reached):
        return reached.goal.rally


class DrawWinnerInline(ReadOnlyInline):
    model = DrawWinner
    fields = ["position", "member"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    """A draw as it was made, its winners in the order drawn, and how to draw it again."""

    list_display = ["drawn_at", "rally", "goal", "seed", "winners_wanted", "eligible_count", "drawn_by"]
    list_filter = ["rally"]
    search_fields = ["goal__name", "rally__name"]
    list_select_related = ["rally", "goal", "drawn_by"]
    autocomplete_fields = []
    inlines = [DrawWinnerInline]
    change_form_template = "admin/rallies/draw/change_form.html"
    fields = ["rally", "goal", "seed", "winners_wanted", "eligible_count", "eligible_digest", "drawn_at", "drawn_by"]
