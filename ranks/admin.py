"""Ranks in the back office: each programme's rule and ladder (changes audited), members' ranks and the
append-only history of changes, read-only ("why am I Silver?")."""

from django.contrib import admin

from audit.backoffice import AuditedAdminMixin
from common.admin import ReadOnlyAdmin, UnitsInListMixin
from common.scoping import register_programme_paths
from ranks.models import MemberRank, Rank, RankPolicy, RankRecord

register_programme_paths({RankPolicy: "programme", Rank: "programme", MemberRank: "programme", RankRecord: "programme"})


@admin.register(RankPolicy)
class RankPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["programme", "calendar_month", "last_months", "calendar_year", "downgrade_grace_days"]
    autocomplete_fields = ["programme"]


@admin.register(Rank)
class RankAdmin(AuditedAdminMixin, UnitsInListMixin, admin.ModelAdmin):
    list_display = ["name", "programme", "threshold_yen", "multiplier_percent"]
    list_filter = ["programme"]
    autocomplete_fields = ["programme"]


@admin.register(MemberRank)
class MemberRankAdmin(ReadOnlyAdmin):
    list_display = ["member", "programme", "rank", "since", "below_since", "valid_until"]
    list_filter = ["programme", "rank"]
    list_select_related = ["member", "programme", "rank"]
    search_fields = ["member__pseudonym__exact"]


@admin.register(RankRecord)
class RankRecordAdmin(ReadOnlyAdmin):
    list_display = ["effective_on", "member", "programme", "rank_before", "rank", "purchases_yen", "reason"]
    list_filter = ["programme", "rank"]
    list_select_related = ["member", "programme", "rank_before", "rank"]
    search_fields = ["member__pseudonym__exact"]
    date_hierarchy = "effective_on"
