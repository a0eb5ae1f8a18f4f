"""Organisations members may donate to, and the desk: staff record a donation a member makes in person
(found by member id or card number), confirmed on a second page whose key makes a double submit donate
once. The donation is the service's (donations.services.donation_make), which writes the audit row.

Staff of some programmes see and serve only their programmes' organisations and members
(common/scoping.py); another programme's organisation answers 404.
"""

from __future__ import annotations

import unicodedata
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import BackofficeAdmin
from common.formatting import points_text
from common.scoping import scoped
from donations.admin.forms import DeskConfirmForm, DeskDonationForm
from donations.models import Donation, Organisation
from donations.services import donation_make
from members.models import Card, Member
from members.selectors import PSEUDONYM_RE, card_search
from points.errors import LedgerError
from points.selectors import card_balance
from points.services import points_usable

DONATE_PERMISSION = "donations.add_donation"


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(label=gettext_lazy("website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = [
            "programme",
            "name",
            "purpose",
            "website",
            "position",
            "is_public",
            "active_from",
            "active_until",
            "bank_code",
            "bank_name_kana",
            "branch_code",
            "branch_name_kana",
            "account_type",
            "account_number",
            "account_holder_kana",
        ]
        widgets = {
            "active_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "active_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("active_from"), cleaned.get("active_until")
        if starts and ends and ends <= starts:
            self.add_error("active_until", _("The end comes on or before the start."))
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(BackofficeAdmin):
    form = OrganisationForm
    list_display = ["name", "programme", "active_from", "active_until", "accepting", "is_public", "total"]
    list_filter = ["programme", "is_public"]
    search_fields = ["name"]
    list_select_related = ["programme"]
    autocomplete_fields = []
    ordering = ["programme", "position", "pk"]
    change_form_template = "admin/donations/organisation/change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "purpose", "website", "position", "is_public"]}),
        (gettext_lazy("Accepts donations"), {"fields": ["active_from", "active_until"]}),
        (
            gettext_lazy("Bank account for the monthly transfer"),
            {
                "fields": [
                    "bank_code",
                    "bank_name_kana",
                    "branch_code",
                    "branch_name_kana",
                    "account_type",
                    "account_number",
                    "account_holder_kana",
                ]
            },
        ),
    ]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/donate/", view(self.donate_view), name="donations_organisation_donate"),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        # The running total in the list's own query: a subquery per row, no GROUP BY over the organisation.
        given = (
            Donation.objects.filter(organisation=OuterRef("pk"))
            .order_by()
            .values("organisation")
            .annotate(points=Sum("points"))
            .values("points")
        )
        return super().get_queryset(request).annotate(donated_points=Coalesce(Subquery(given), 0))

    @admin.display(description=gettext_lazy("accepting today"), boolean=True)
    def accepting(self, organisation):
        return organisation.is_active_on(timezone.localdate())

    @admin.display(description=gettext_lazy("donated so far"), ordering="donated_points")
    def total(self, organisation):
        return points_text(organisation.donated_points)

    def has_import_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Donations and settlements name their organisation; one no longer taking donations gets an end date.
        return False

    # --- the desk ----------------------------------------------------------------------------

    def _page(self, request, organisation, template, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": organisation,
                "title": _("Record a donation to %(organisation)s") % {"organisation": organisation.name},
                "here": _("Record a donation"),
                "accepting": organisation.is_active_on(timezone.localdate()),
                **context,
            },
        )

    def donate_view(self, request, object_id):
        organisation = self.get_object(request, unquote(object_id))
        if organisation is None:
            raise Http404
        if not request.user.has_perm(DONATE_PERMISSION):
            raise PermissionDenied
        if request.method == "POST" and "key" in request.POST:
            return self._confirmed(request, organisation)
        form = DeskDonationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            member = self._find_member(request, form)
            if member is not None:
                return self._confirm_page(request, organisation, member, form.cleaned_data["points"])
        return self._page(request, organisation, "admin/donations/organisation/donate.html", form=form)

    @staticmethod
    def _find_member(request, form: DeskDonationForm) -> Member | None:
        """The member by member id (with or without a card) or by the number of one of their cards."""
        text = unicodedata.normalize("NFKC", form.cleaned_data["member"]).strip().upper()
        found = {
            card.member_id: card.member for card in scoped(request, card_search(query=text)).select_related("member")
        }
        if PSEUDONYM_RE.match(text):
            found.update({m.pk: m for m in scoped(request, Member.objects.filter(pseudonym=text))})
        if not found:
            form.add_error("member", _("No member has this member id or card number."))
            return None
        usable = [m for m in found.values() if m.status not in Member.REFUSED_STATUSES]
        if not usable:
            form.add_error("member", _("This membership is suspended or has ended."))
            return None
        if len(usable) > 1:
            form.add_error("member", _("More than one member matches; enter the member id."))
            return None
        return usable[0]

    def _confirm_page(self, request, organisation, member: Member, points: int, error: str = ""):
        account = card_balance(member_id=member.pk, programme=organisation.programme_id)
        balance = account.balance if account else 0
        usable = points_usable(account, merchant_id=None) if account else 0
        confirm = DeskConfirmForm(initial={"member_id": member.pk, "points": points, "key": uuid.uuid4().hex})
        cards = Card.objects.filter(member=member, status=Card.Status.ACTIVE).order_by("pk")
        return self._page(
            request,
            organisation,
            "admin/donations/organisation/confirm.html",
            member=member,
            cards=list(cards.values_list("number_last4", flat=True)[:3]),
            points=points,
            balance=balance,
            usable=usable,
            enough=usable >= points,
            confirm=confirm,
            error=error,
        )

    def _confirmed(self, request, organisation):
        confirm = DeskConfirmForm(request.POST)
        if not confirm.is_valid():
            raise Http404
        members = scoped(request, Member.objects.all())
        member = get_object_or_404(members, pk=confirm.cleaned_data["member_id"])
        points = confirm.cleaned_data["points"]
        try:
            donation = donation_make(
                member=member,
                organisation=organisation,
                points=points,
                channel=Donation.Channel.DESK,
                idempotency_key=f"desk:{confirm.cleaned_data['key']}",
                staff=request.user,
            )
        except LedgerError as error:
            return self._confirm_page(request, organisation, member, points, error=str(error))
        messages.success(
            request,
            _("%(member)s donated %(points)s points to %(organisation)s.")
            % {"member": member.pseudonym, "points": f"{donation.points:,}", "organisation": organisation.name},
        )
        return redirect(reverse("admin:donations_donation_change", args=[donation.pk]))
