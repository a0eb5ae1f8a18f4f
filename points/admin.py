"""The ledger in the admin: programmes, read-only entries, lots and balances, and
the member page extended with balances, expiring lots, history and the
secretariat's point operations (adjust, replace card, merge, withdraw)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit.backoffice import AuditedAdminMixin
from audit.models import AuditEvent
from audit.services import audit_record
from common.admin import ReadOnlyAdmin
from members.admin import MemberAdmin
from members.models import CardEvent, Member
from points import errors, forms, services
from points.models import Account, Entry, Lot, Participation, Programme
from points.selectors import member_history, outstanding_points, terminals_with_transactions_today
from stores.admin import TerminalAdmin
from stores.models import Store, Terminal


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
        return [report, *super().get_urls()]

    def outstanding_view(self, request):
        """未使用ポイント残高 at the end of a chosen day, by programme and issuing store."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = forms.OutstandingForm(request.GET or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Outstanding points"),
            "form": form,
        }
        if form.is_valid():
            at = form.moment()
            programme = form.cleaned_data["programme"]
            lines, debt = outstanding_points(at=at, programme_id=programme.pk if programme else None)
            programmes = {p.pk: p for p in Programme.objects.all()}
            stores = Store.objects.in_bulk([line.store_id for line in lines if line.store_id])
            rows = [(programmes[line.programme_id], stores.get(line.store_id), line.points) for line in lines]
            total = sum(line.points for line in lines)
            context.update(rows=rows, debt=debt, total=total, net=total - debt, at=at)
        return TemplateResponse(request, "admin/points/outstanding.html", context)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "kind", "points", "member", "store", "terminal", "amount_yen", "receipt_no", "staff"]
    list_filter = ["kind", "account__programme"]
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


class AccountInline(admin.TabularInline):
    model = Account
    fields = ["programme", "balance", "debt", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("balances")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    """The member page with the ledger: balances, expiring points, history, and point operations."""

    inlines = [*MemberAdmin.inlines, AccountInline]
    change_form_template = "admin/points/member_change_form.html"

    def get_urls(self):
        operations = [
            path("<int:pk>/adjust/", self.admin_site.admin_view(self.adjust_view), name="members_member_adjust"),
            path(
                "<int:pk>/replace-card/",
                self.admin_site.admin_view(self.replace_card_view),
                name="members_member_replace_card",
            ),
            path("<int:pk>/merge/", self.admin_site.admin_view(self.merge_view), name="members_member_merge"),
            path("<int:pk>/withdraw/", self.admin_site.admin_view(self.withdraw_view), name="members_member_withdraw"),
        ]
        return operations + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        member = self.get_object(request, object_id)
        if member is not None:
            extra_context.update(self._ledger_context(member))
        return super().change_view(request, object_id, form_url, extra_context)

    def _ledger_context(self, member):
        today = timezone.localdate()
        lots = (
            Lot.objects.filter(account__member=member, remaining__gt=0)
            .select_related("store", "account__programme")
            .order_by("expires_on", "earned_at", "id")[:50]
        )
        entries = list(member_history(member_id=member.pk, limit=100))
        card_events = list(CardEvent.objects.filter(member=member).select_related("card", "other_card", "staff")[:50])
        history = sorted(
            [("entry", e.recorded_at, e) for e in entries] + [("card", c.at, c) for c in card_events],
            key=lambda row: row[1],
            reverse=True,
        )
        return {"open_lots": lots, "history": history, "today": today}

    def _operation(self, request, pk, form_class, template, title, perform, *, perm="members.change_member"):
        if not request.user.has_perm(perm):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=pk)
        form = form_class(request.POST or None, member=member)
        if request.method == "POST" and form.is_valid():
            try:
                summary = perform(member, form.cleaned_data)
            except errors.LedgerError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, summary)
                return redirect(reverse("admin:members_member_change", args=[member.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": member,
            "title": title,
            "form": form,
            "member": member,
        }
        return TemplateResponse(request, template, context)

    def adjust_view(self, request, pk):
        def perform(member, data):
            posting = services.points_adjust(
                member=member,
                programme=data["programme"],
                points=data["points"],
                reason=data["reason"],
                staff=request.user,
            )
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("manual adjustment"),
                detail={"points": data["points"], "entry": posting.entries[0].pk},
            )
            return _("Adjusted by %(points)+d points.") % {"points": data["points"]}

        return self._operation(
            request,
            pk,
            lambda data, member: forms.AdjustForm(data),
            "admin/points/operation.html",
            _("Manual adjustment"),
            perform,
            perm="points.add_entry",
        )

    def replace_card_view(self, request, pk):
        def perform(member, data):
            new = services.card_replace(
                old_card=data["old_card"],
                new_number=data["new_number"],
                new_card_type=data["new_card_type"],
                staff=request.user,
                reason=data["reason"],
            )
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("card replaced"),
                detail={"old_card": data["old_card"].pk, "new_card": new.pk},
            )
            return _("Card %(old)s was replaced by %(new)s; the old card no longer works.") % {
                "old": data["old_card"],
                "new": new,
            }

        return self._operation(
            request, pk, forms.ReplaceCardForm, "admin/points/operation.html", _("Replace a card"), perform
        )

    def merge_view(self, request, pk):
        def perform(member, data):
            other = data["other"]
            services.member_merge(source=other, target=member, staff=request.user, reason=data["reason"])
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("members merged"),
                detail={"merged_from": other.pseudonym},
            )
            return _("%(other)s was merged into this member.") % {"other": other.pseudonym}

        return self._operation(
            request,
            pk,
            forms.MergeForm,
            "admin/points/operation.html",
            _("Merge another record into this member"),
            perform,
        )

    def withdraw_view(self, request, pk):
        def perform(member, data):
            services.member_withdraw(member=member, staff=request.user, reason=data["reason"])
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.ACTION,
                obj=member,
                summary=gettext_noop("member withdrawn"),
            )
            return _("The member has withdrawn; personal data was erased.")

        return self._operation(
            request,
            pk,
            lambda data, member: forms.WithdrawForm(data),
            "admin/points/operation.html",
            _("Withdraw (退会)"),
            perform,
        )
