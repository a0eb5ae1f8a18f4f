"""The ledger in the admin: programmes, read-only entries, lots and balances, the outstanding points report,
the terminal list with today's transactions, what the member page shows of the ledger
(`MemberLedgerAdmin.ledger_context`; the page and its operations are lifecycle's), and the programmes each
staff member works for (the firewall between programmes, common/scoping.py)."""

import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.backoffice import AuditedAdminMixin
from common.admin import FormFilter, ReadOnlyAdmin
from common.scoping import narrow_form, register_programme_paths, report_programme_ids, request_scope
from members.admin import MemberAdmin
from members.models import Card, CardEvent, Consent, Member
from points import forms
from points.models import Account, Entry, Lot, LotUse, Participation, Programme, PurchaseCategory, StaffProgramme
from points.selectors import (
    SECURITY_THRESHOLD_YEN,
    base_dates,
    member_accounts,
    member_points_expiring_by_month,
    member_recent_history,
    outstanding_points,
    purchased_unused,
    terminals_with_transactions_today,
)
from stores.admin import TerminalAdmin
from stores.models import Merchant, Store, Terminal
from stores.selectors import local_midnight

# How rows reach their programme, for the firewall between programmes (common/scoping.py). Members and stores
# reach theirs through points' tables: a member belongs to every programme they have an account in, a store to
# every programme it takes part in, and their cards, events, merchants and terminals with them.
register_programme_paths(
    {
        Programme: "pk",
        Participation: "programme",
        Account: "programme",
        Entry: "account__programme",
        Lot: "account__programme",
        LotUse: "lot__account__programme",
        PurchaseCategory: "account__programme",
        Member: "accounts__programme",
        Card: "member__accounts__programme",
        CardEvent: "member__accounts__programme",
        Consent: "member__accounts__programme",
        Store: "participation__programme",
        Merchant: "stores__participation__programme",
        Terminal: "store__participation__programme",
    }
)


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["store"]


@admin.register(Programme)
class ProgrammeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "expiry_months", "max_backdate_days", "spend_anywhere", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    inlines = [ParticipationInline]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["member", "programme", "balance", "debt", "updated_at"]
    list_filter = ["programme"]
    list_select_related = ["member", "programme"]
    search_fields = ["member__pseudonym__exact"]
    search_help_text = _("Exact member id (e.g. M7K2Q9…).")
    change_list_template = "admin/points/account/change_list.html"

    def get_urls(self):
        report = path("outstanding/", self.admin_site.admin_view(self.outstanding_view), name="points_outstanding")
        purchased = path(
            "purchased/", self.admin_site.admin_view(self.purchased_view), name="points_purchased_base_dates"
        )
        return [report, purchased, *super().get_urls()]

    def purchased_view(self, request):
        """前払式支払手段の基準日未使用残高: the purchased points unused at the last base dates (3/31, 9/30) per
        programme, and the half to secure above ¥10,000,000."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        dates = base_dates(today=timezone.localdate())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Unused purchased points at the base dates"),
            "threshold": SECURITY_THRESHOLD_YEN,
            "dates": [
                (day, purchased_unused(base_date=day, programme_ids=report_programme_ids(request))) for day in dates
            ],
        }
        return TemplateResponse(request, "admin/points/purchased.html", context)

    def outstanding_view(self, request):
        """未使用ポイント残高 at the end of a chosen day, by programme and issuing store."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = forms.OutstandingForm(request.GET or None)
        narrow_form(request, form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Outstanding points"),
            "form": form,
        }
        if form.is_valid():
            at = form.moment()
            programme = form.cleaned_data["programme"]
            lines, debt = outstanding_points(at=at, programme_ids=report_programme_ids(request, programme))
            programmes = {p.pk: p for p in Programme.objects.all()}
            stores = Store.objects.in_bulk([line.store_id for line in lines if line.store_id])
            rows = [(programmes[line.programme_id], stores.get(line.store_id), line.points) for line in lines]
            total = sum(line.points for line in lines)
            context.update(rows=rows, debt=debt, total=total, net=total - debt, at=at)
        return TemplateResponse(request, "admin/points/outstanding.html", context)


class RecordedDatesFilter(FormFilter):
    """Entries recorded from one day to another (Tokyo days, both included)."""

    title = _("date recorded")
    form_class = forms.RecordedDatesForm

    def filter(self, queryset, cleaned_data):
        first, last = cleaned_data["recorded_from"], cleaned_data["recorded_to"]
        if first:
            queryset = queryset.filter(recorded_at__gte=local_midnight(first))
        if last:
            queryset = queryset.filter(recorded_at__lt=local_midnight(last + datetime.timedelta(days=1)))
        return queryset


class StoreCodeFilter(FormFilter):
    """Entries of one store, by its code."""

    title = _("store")
    form_class = forms.StoreCodeForm

    def filter(self, queryset, cleaned_data):
        code = cleaned_data["store_code"].strip()
        return queryset.filter(store__code=code) if code else queryset


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "kind", "points", "member", "store", "terminal", "amount_yen", "receipt_no", "staff"]
    list_filter = [RecordedDatesFilter, StoreCodeFilter, "account__programme", "kind"]
    list_select_related = ["account__member", "store", "terminal", "staff"]
    search_fields = ["receipt_no__exact", "idempotency_key__exact", "account__member__pseudonym__exact"]
    search_help_text = _("Exact receipt number, idempotency key or member id.")
    ordering = ["-recorded_at", "-id"]
    raw_id_fields = ["account", "card", "store", "terminal", "staff", "reverses"]

    @admin.display(description=_("member"), ordering="account__member__pseudonym")
    def member(self, entry):
        return entry.account.member


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "store", "points", "remaining", "earned_at", "expires_on"]
    list_filter = ["account__programme"]
    list_select_related = ["account__member", "account__programme", "store"]
    search_fields = ["account__member__pseudonym__exact"]
    raw_id_fields = ["account", "entry", "store", "origin"]
    ordering = ["expires_on", "id"]


admin.site.unregister(Terminal)


@admin.register(Terminal)
class TerminalLedgerAdmin(TerminalAdmin):
    """The terminal list with each terminal's transactions today, read from the ledger."""

    list_display = [*TerminalAdmin.list_display]
    list_display.insert(list_display.index("last_seen_at") + 1, "transactions_today")

    def get_queryset(self, request):
        return terminals_with_transactions_today(queryset=super().get_queryset(request))

    # Not sortable: ordering by it would count today's ledger for every terminal.
    @admin.display(description=_("transactions today"))
    def transactions_today(self, terminal):
        return terminal.transactions_today


admin.site.unregister(Member)


@admin.register(Member)
class MemberLedgerAdmin(MemberAdmin):
    """The member admin with the member's ledger. The member page itself (lifecycle's MemberDeskAdmin) sits
    above the apps that hold coupons, stamps and exchanges; this is what it shows of points."""

    def ledger_context(self, request, member: Member) -> dict:
        """Balance per programme, points expiring by month, and the recent history with card events, each for
        staff who may read it, of the programmes they work for."""
        user = request.user
        # Staff of some programmes see the member's points in those only.
        own = request_scope(request).programme_ids
        context = {}
        if user.has_perm("points.view_account"):
            context["accounts"] = member_accounts(member_id=member.pk, programme_ids=own)
        if user.has_perm("points.view_lot"):
            context["expiring"] = member_points_expiring_by_month(member_id=member.pk, programme_ids=own)
        if user.has_perm("points.view_entry"):
            context["history"] = member_recent_history(
                member_id=member.pk, card_events=user.has_perm("members.view_cardevent"), programme_ids=own
            )
        return context


# --- the programmes staff work for ----------------------------------------------------------


@admin.register(StaffProgramme)
class StaffProgrammeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Which programmes each staff member works for: a company's own staff see only its programme; staff with
    no programme here work for the whole group. Belongs to no programme, so only the group's secretariat sees
    it (and changes it, with the points permissions of its role)."""

    list_display = ["user", "programme"]
    list_filter = ["programme"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    search_help_text = _("Login name or name of the staff member.")
    list_select_related = ["user", "programme"]
    autocomplete_fields = ["user"]


class StaffProgrammeInline(admin.TabularInline):
    """On a user's page: the programmes they work for; none for the whole group."""

    model = StaffProgramme
    fk_name = "user"
    extra = 0
    verbose_name_plural = _("programmes this staff member works for (none: the whole group)")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, StaffProgrammeInline]
