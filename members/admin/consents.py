"""The consent ledger in the back office: policy versions and who agreed to which, the named third parties
(and the provision of their data), and every consent row, read-only."""

from __future__ import annotations

import csv
import io

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.backoffice import BackofficeAdmin
from common.admin import ReadOnlyAdmin
from common.downloads import csv_attachment
from members.models import Consent, ConsentPolicy, Member, Provision, ThirdParty
from members.services.consents import PROVISION_COLUMNS, provision_make


@admin.register(ConsentPolicy)
class ConsentPolicyAdmin(BackofficeAdmin):
    list_display = ["version", "title", "in_force_from", "agreed"]
    list_filter = [("in_force_from", admin.DateFieldListFilter)]
    search_fields = ["version", "title"]
    list_select_related = []
    ordering = ["-in_force_from"]

    def get_queryset(self, request):
        agreed = (
            Member.objects.filter(terms_version=OuterRef("version"), status=Member.Status.ACTIVE)
            .values("terms_version")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(agreed_count=Coalesce(Subquery(agreed), 0))

    @admin.display(description=_("members who agreed"), ordering="agreed_count")
    def agreed(self, obj):
        url = reverse("admin:members_member_changelist") + f"?terms_version={obj.version}"
        return format_html('<a href="{}">{}</a>', url, f"{obj.agreed_count:,}")


@admin.register(ThirdParty)
class ThirdPartyAdmin(BackofficeAdmin):
    list_display = ["name", "items", "active", "consenting"]
    list_filter = ["active"]
    search_fields = ["name"]
    list_select_related = []
    actions = ["provide"]

    @admin.display(description=_("members consenting now"))
    def consenting(self, obj):
        from members.selectors import members_consenting

        return f"{members_consenting(Member.objects.all(), purpose='third_party', third_party_id=obj.pk).count():,}"

    @admin.action(description=_("Provide the data of the members who consent (CSV, recorded)"), permissions=["change"])
    def provide(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one third party at a time."), messages.ERROR)
            return None
        try:
            provision, rows = provision_make(third_party=queryset.get(), staff=request.user)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(PROVISION_COLUMNS)
        writer.writerows(rows)
        return csv_attachment(
            out.getvalue().encode("utf-8-sig"), charset="utf-8", filename=f"provision-{provision.pk}.csv"
        )


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["at", "member", "purpose", "third_party", "given", "policy_version", "channel", "staff"]
    list_filter = ["purpose", "given", "channel", "policy_version", ("at", admin.DateFieldListFilter)]
    search_fields = ["member__pseudonym"]
    search_help_text = _("Exact member id.")
    list_select_related = ["member", "third_party", "staff"]
    ordering = ["-at", "-id"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(member__pseudonym=term), False


@admin.register(Provision)
class ProvisionAdmin(ReadOnlyAdmin):
    list_display = ["at", "third_party", "items", "members_count", "staff", "keep_until"]
    list_filter = ["third_party", ("at", admin.DateFieldListFilter)]
    search_fields = ["third_party__name"]
    list_select_related = ["third_party", "staff"]
    exclude = ["member_ids"]
