"""The member page: a summary of everything the member holds, across the apps, with the secretariat's
operations on the member (adjust points, replace a card, merge another record in, withdraw, attach a card,
suspend or reinstate).

The summary is the member's change URL itself (`members/member/<pk>/change/`), so that every link to a
member in the admin (the list, a card, an entry, an audit event, the end of an operation) opens it, under the
admin's own view permission. Django's change form, where personal data is edited, is the same URL with
`?edit=1` (and, as in Django, every POST to it, and the related-object popups); saving it comes back to the
summary.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from common.formatting import yen_text
from common.scoping import narrow_form, request_scope, scoped
from coupons.selectors import member_coupon_counts, member_coupons
from exchange.selectors import member_exchanges, member_reservations
from lifecycle import services as lifecycle
from members.admin.base import can_view_personal_data
from members.models import Card, Member
from members.selectors import consent_lines
from members.services import PERSONAL_FIELDS, member_reinstate, member_suspend
from points import errors, forms
from points.admin import MemberLedgerAdmin
from points.models import Account, Programme
from points.services import accounts_open, points_adjust, points_refund_purchased, points_sell_at_desk
from qrpoints.selectors import member_qr_points
from rallies.selectors import member_rallies
from ranks.selectors import member_ranks

# The change URL shows the summary unless asked for the form.
EDIT_VAR = "edit"
FORM_VARS = (EDIT_VAR, IS_POPUP_VAR, TO_FIELD_VAR)
# Personal data in the order of the change form.
PERSONAL_SHOWN = ("name", "name_kana", "birth_date", "phone", "email", "address")

admin.site.unregister(Member)


@admin.register(Member)
class MemberDeskAdmin(MemberLedgerAdmin):
    """The member page: the summary at the change URL, the operations, and the change form behind `?edit=1`."""

    # Cards, card history and balances are on the summary; the form is for the member's own data.
    inlines = []
    change_form_template = "admin/lifecycle/member_change_form.html"
    summary_template = "admin/lifecycle/member_summary.html"
    operation_template = "admin/lifecycle/operation.html"

    # URLs ------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        operations = [
            path("<int:pk>/adjust/", view(self.adjust_view), name="members_member_adjust"),
            path("<int:pk>/sell-points/", view(self.sell_points_view), name="members_member_sell_points"),
            path("<int:pk>/refund-points/", view(self.refund_points_view), name="members_member_refund_points"),
            path("<int:pk>/replace-card/", view(self.replace_card_view), name="members_member_replace_card"),
            path("<int:pk>/merge/", view(self.merge_view), name="members_member_merge"),
            path("<int:pk>/withdraw/", view(self.withdraw_view), name="members_member_withdraw"),
            path("<int:pk>/suspend/", view(self.suspend_view), name="members_member_suspend"),
            path("<int:pk>/reinstate/", view(self.reinstate_view), name="members_member_reinstate"),
        ]
        return operations + super().get_urls()

    def summary_url(self, member: Member) -> str:
        return reverse("admin:members_member_change", args=[member.pk])

    # The summary -----------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method in ("GET", "HEAD") and not any(var in request.GET for var in FORM_VARS):
            return self.summary_view(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def summary_view(self, request, object_id):
        member = self._summary_member(request, object_id)
        # As Django's change view: the permission first, then whether the member exists.
        if not self.has_view_or_change_permission(request, member):
            raise PermissionDenied
        if member is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": member,
            "member": member,
            "title": _("Member %(pseudonym)s") % {"pseudonym": member.pseudonym},
            "edit_url": f"{self.summary_url(member)}?{EDIT_VAR}=1",
            "has_change_permission": self.has_change_permission(request, member),
            "personal_data": self._personal_data(request, member),
            "cards": self._cards(request, member),
            "operations": self._operations(request, member),
            "consents": consent_lines(member_id=member.pk),
            **self.ledger_context(request, member),
            **self._above_points_context(request, member),
        }
        return TemplateResponse(request, self.summary_template, context)

    def _summary_member(self, request, object_id) -> Member | None:
        queryset = self.get_queryset(request)
        if not can_view_personal_data(request):
            # Staff who may not see personal data never have it decrypted for them.
            queryset = queryset.defer(*PERSONAL_FIELDS)
        # The record merged into is shown by its pseudonym only.
        queryset = queryset.select_related("merged_into").defer(*(f"merged_into__{name}" for name in PERSONAL_FIELDS))
        try:
            return queryset.get(pk=unquote(object_id))
        except (Member.DoesNotExist, ValidationError, ValueError):
            return None

    def _personal_data(self, request, member: Member) -> list[tuple[str, object]] | None:
        if not can_view_personal_data(request):
            return None
        values = {name: getattr(member, name) for name in PERSONAL_SHOWN}
        if values["birth_date"]:
            values["birth_date"] = values["birth_date"].isoformat()
        return [(Member._meta.get_field(name).verbose_name, value) for name, value in values.items()]

    def _cards(self, request, member: Member) -> list[Card] | None:
        if not request.user.has_perm("members.view_card"):
            return None
        cards = Card.objects.filter(member=member).select_related("replaced_by").defer("number", "replaced_by__number")
        # The cards that work first, then the others, newest first.
        return sorted(cards, key=lambda card: (card.status != Card.Status.ACTIVE, -card.pk))

    def _above_points_context(self, request, member: Member) -> dict:
        user = request.user
        # Staff of some programmes see the member's coupons, rallies and exchanges of those only.
        own = request_scope(request).programme_ids
        context = {}
        if user.has_perm("coupons.view_coupon"):
            context["coupon_counts"] = member_coupon_counts(member_id=member.pk, programme_ids=own)
            context["coupons"] = member_coupons(member_id=member.pk, programme_ids=own)
        if user.has_perm("rallies.view_stamp"):
            context["rallies"] = member_rallies(member_id=member.pk, programme_ids=own)
        if user.has_perm("qrpoints.view_qrclaim"):
            context["qr_points"] = member_qr_points(member_id=member.pk, programme_ids=own)
        if user.has_perm("ranks.view_rankrecord"):
            context["ranks"] = member_ranks(member_id=member.pk, programme_ids=own)
        if user.has_perm("exchange.view_exchange"):
            context["reservations"] = list(member_reservations(member, programme_ids=own))
            context["exchanges"] = list(member_exchanges(member, programme_ids=own))
        return context

    def _whole_member_is_theirs(self, request, member: Member) -> bool:
        """Whether the staff member may do what changes the member in every programme (merge, withdraw,
        suspend, reinstate): the group's secretariat always; staff of some programmes only for a member who
        belongs to none but theirs."""
        scope = request_scope(request)
        if not scope.is_scoped:
            return True
        return not Account.objects.filter(member=member).exclude(programme_id__in=scope.programme_ids).exists()

    def _may_merge_away(self, request, other: Member) -> bool:
        """Staff of some programmes merge in only a record of their programmes and of no other; a record they
        may not see is, to them, no match at all."""
        return scoped(request, Member.objects.filter(pk=other.pk)).exists() and self._whole_member_is_theirs(
            request, other
        )

    def _operations(self, request, member: Member) -> list[tuple[str, str]]:
        """The buttons of the operations this staff member may do on this member: (label, url)."""
        if member.status == Member.Status.WITHDRAWN or not self.has_change_permission(request, member):
            return []
        user = request.user

        def url(name):
            return reverse(f"admin:members_member_{name}", args=[member.pk])

        operations = []
        if user.has_perm("points.add_entry"):
            operations.append((_("Adjust points"), url("adjust")))
            # Programmes that sell points: running ones sell at the desk, ended ones refund (one query for both).
            selling = set(Programme.objects.filter(sells_points=True).values_list("is_active", flat=True))
            if member.status == Member.Status.ACTIVE and True in selling:
                operations.append((_("Sell points"), url("sell_points")))
            if False in selling:
                operations.append((_("Refund purchased points (programme ended)"), url("refund_points")))
        if self.can_attach_card(request, member):
            operations.append((_("Attach a card"), url("attach_card")))
        operations.append((_("Replace a card"), url("replace_card")))
        if self._whole_member_is_theirs(request, member):
            operations.append((_("Merge another record in"), url("merge")))
            if member.status == Member.Status.ACTIVE:
                operations.append((_("Suspend"), url("suspend")))
            elif member.status == Member.Status.SUSPENDED:
                operations.append((_("Reinstate"), url("reinstate")))
            operations.append((_("Withdraw (退会)"), url("withdraw")))
        if member.status == Member.Status.ACTIVE and user.has_perm("exchange.add_exchange"):
            operations.append((_("Exchange desk"), reverse("admin:exchange_desk_member", args=[member.pk])))
        return operations

    # The change form -------------------------------------------------------------------------

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" in request.POST and IS_POPUP_VAR not in request.POST:
            # "Save and continue editing" stays on the form, not on the summary at the same path.
            separator = "&" if "?" in response["Location"] else "?"
            response["Location"] = f"{response['Location']}{separator}{EDIT_VAR}=1"
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        scope = request_scope(request)
        if not change and scope.is_scoped:
            # A member registered by a company's staff joins their programmes, so that they go on seeing them.
            programmes = Programme.objects.filter(pk__in=scope.programme_ids)
            accounts_open(member=obj, programmes=programmes, staff=request.user)

    def response_post_save_change(self, request, obj):
        # Saved: back to the member's page rather than the list.
        return HttpResponseRedirect(self.summary_url(obj))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request_scope(request).is_scoped:
            # Suspending changes the member in every programme: from the member page, for a member wholly theirs.
            actions.pop("suspend_members", None)
            actions.pop("reinstate_members", None)
        return actions

    # Operations --------------------------------------------------------------------------------

    def _operation(
        self, request, pk, *, form_class, title, perform, intro="", perms=("members.change_member",), whole=False
    ):
        """An operation's page: its form, then the service; a refusal is shown on the form, success on the
        member page. The services write their own audit rows. A `whole` operation changes the member in every
        programme, and is refused to staff of some programmes when the member belongs to another too."""
        if not all(request.user.has_perm(perm) for perm in perms):
            raise PermissionDenied
        # Staff of some programmes reach only their programmes' members; another's answers 404.
        member = get_object_or_404(scoped(request, Member.objects.all()), pk=pk)
        if member.status == Member.Status.WITHDRAWN:
            messages.error(request, _("The member has withdrawn; nothing about the record changes any more."))
            return redirect(self.summary_url(member))
        if whole and not self._whole_member_is_theirs(request, member):
            messages.error(
                request,
                _(
                    "The member also belongs to another company's programme: only the group's secretariat can "
                    "merge, withdraw, suspend or reinstate the member."
                ),
            )
            return redirect(self.summary_url(member))
        form = form_class(request.POST if request.method == "POST" else None, member=member)
        narrow_form(request, form)
        if request.method == "POST" and form.is_valid():
            try:
                done = perform(member, form.cleaned_data)
            except errors.LedgerError as exc:
                form.add_error(None, exc.message)
            except ValueError as exc:
                # The members app's status changes refuse with a plain message.
                form.add_error(None, str(exc))
            else:
                messages.success(request, done)
                return redirect(self.summary_url(member))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": member,
            "member": member,
            "title": title,
            "subtitle": member.pseudonym,
            "intro": intro,
            "form": form,
            "summary_url": self.summary_url(member),
        }
        return TemplateResponse(request, self.operation_template, context)

    def adjust_view(self, request, pk):
        def perform(member, data):
            points_adjust(
                member=member,
                programme=data["programme"],
                points=data["points"],
                reason=data["reason"],
                staff=request.user,
            )
            return _("Adjusted by %(points)+d points.") % {"points": data["points"]}

        return self._operation(
            request,
            pk,
            form_class=forms.AdjustForm,
            title=_("Manual adjustment"),
            perform=perform,
            perms=("points.add_entry", "members.change_member"),
        )

    def sell_points_view(self, request, pk):
        def perform(member, data):
            points_sell_at_desk(
                member=member, programme=data["programme"], amount_yen=data["amount_yen"], staff=request.user
            )
            return _("Sold %(points)s points for %(yen)s.") % {
                "points": f"{data['amount_yen']:,}",
                "yen": yen_text(data["amount_yen"]),
            }

        return self._operation(
            request,
            pk,
            form_class=forms.SellPointsForm,
            title=_("Sell points"),
            intro=_(
                "The member pays in cash and gets as many points (1 point = 1 yen). Purchased points are a prepaid "
                "payment instrument: they are shown apart from free points and are never refunded in cash."
            ),
            perform=perform,
            perms=("points.add_entry", "members.change_member"),
        )

    def refund_points_view(self, request, pk):
        def perform(member, data):
            posting = points_refund_purchased(member=member, programme=data["programme"], staff=request.user)
            refunded = -posting.points
            return _("Refunded %(points)s purchased points: pay the member %(yen)s.") % {
                "points": f"{refunded:,}",
                "yen": yen_text(refunded),
            }

        return self._operation(
            request,
            pk,
            form_class=forms.RefundPurchasedForm,
            title=_("Refund purchased points (programme ended)"),
            intro=_(
                "Purchased points are refunded in cash only when their programme has ended: all of the member's "
                "unused purchased points in it are paid back, 1 yen a point; free points are not."
            ),
            perform=perform,
            perms=("points.add_entry", "members.change_member"),
        )

    def replace_card_view(self, request, pk):
        def perform(member, data):
            new = lifecycle.card_replace(
                old_card=data["old_card"],
                new_number=data["new_number"],
                new_card_type=data["new_card_type"],
                staff=request.user,
                reason=data["reason"],
            )
            return _("Card %(old)s was replaced by %(new)s; the old card no longer works.") % {
                "old": data["old_card"],
                "new": new,
            }

        return self._operation(
            request,
            pk,
            form_class=forms.ReplaceCardForm,
            title=_("Replace a card"),
            intro=_("The points follow the member to the new card; the old card stops working at once."),
            perform=perform,
        )

    def merge_view(self, request, pk):
        def perform(member, data):
            other = data["other"]
            if not self._may_merge_away(request, other):
                raise ValueError(_("No other member matches."))
            lifecycle.member_merge(source=other, target=member, staff=request.user, reason=data["reason"])
            return _("%(other)s was merged into this member.") % {"other": other.pseudonym}

        return self._operation(
            request,
            pk,
            form_class=forms.MergeForm,
            title=_("Merge another record into this member"),
            intro=_(
                "Points, cards, coupons, rally stamps and exchanges of the other record move to this member; "
                "the other record's personal data is erased."
            ),
            perform=perform,
            whole=True,
        )

    def withdraw_view(self, request, pk):
        def perform(member, data):
            lifecycle.member_withdraw(member=member, staff=request.user, reason=data["reason"])
            return _("The member has withdrawn; personal data was erased.")

        return self._operation(
            request,
            pk,
            form_class=forms.WithdrawForm,
            title=_("Withdraw (退会)"),
            intro=_("Open reservations are cancelled, the remaining points forfeited and the cards blocked."),
            perform=perform,
            whole=True,
        )

    def suspend_view(self, request, pk):
        def perform(member, data):
            member_suspend(member=member, staff=request.user)
            return _("The member was suspended.")

        return self._operation(
            request,
            pk,
            form_class=forms.StatusChangeForm,
            title=_("Suspend"),
            intro=_("The member's cards are refused at every till until the member is reinstated."),
            perform=perform,
            whole=True,
        )

    def reinstate_view(self, request, pk):
        def perform(member, data):
            member_reinstate(member=member, staff=request.user)
            return _("The member was reinstated.")

        return self._operation(
            request,
            pk,
            form_class=forms.StatusChangeForm,
            title=_("Reinstate"),
            intro=_("The member's cards work again at every till."),
            perform=perform,
            whole=True,
        )
