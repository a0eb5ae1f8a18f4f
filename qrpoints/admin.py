"""QR points in the back office: staff set up events and flyers and print their posters (PDF for the wall, SVG
for a designer's layout); the secretariat issues each store's visit code and prints its counter poster;
everyone allowed reads who claimed what. Claims and flyer rights are history, read-only for everyone.

Events and flyers are saved through qrpoints.services, which writes the audit row (PromotionAdmin keeps
Django's admin log without a second one); a store's new visit code is issued by its service too.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.backoffice import PromotionAdmin
from common.admin import NoCountPaginator, ReadOnlyAdmin, UnitsInListMixin
from common.formatting import datetime_text, points_text
from common.scoping import register_programme_paths
from qrpoints.forms import FlyerForm, QrEventForm
from qrpoints.models import Flyer, FlyerRight, QrClaim, QrEvent, StoreVisitCode
from qrpoints.posters import event_poster, flyer_poster, render_poster_pdf, render_poster_svg, visit_poster
from qrpoints.services import flyer_save, qr_event_save, store_visit_code_issue
from qrpoints.tokens import qr_url

register_programme_paths(
    {
        QrEvent: "programme",
        QrClaim: "event__programme",
        Flyer: "programme",
        FlyerRight: "flyer__programme",
        StoreVisitCode: "store__participation__programme",
    }
)


def _period(obj) -> str:
    return f"{datetime_text(obj.valid_from)} – {datetime_text(obj.valid_until)}"


class PosterDownloads:
    """An admin whose rows have a poster: `<id>/poster.pdf` and `<id>/poster.svg`, for whoever may see the
    row (another programme's id answers 404, as every id-taking URL does)."""

    def poster_of(self, obj):
        raise NotImplementedError

    def get_urls(self):
        view = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/poster.pdf", view(self.poster_pdf_view), name=f"{name}_poster_pdf"),
            path("<path:object_id>/poster.svg", view(self.poster_svg_view), name=f"{name}_poster_svg"),
            *super().get_urls(),
        ]

    def _poster_object(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _refusal(self, request, obj):
        """Why this row has no poster to print (None when it has one)."""
        return None

    def _download(self, request, object_id, render, extension: str, content_type: str):
        obj = self._poster_object(request, object_id)
        refusal = self._refusal(request, obj)
        if refusal is not None:
            self.message_user(request, refusal, messages.ERROR)
            return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]))
        poster = self.poster_of(obj)
        response = HttpResponse(render(poster), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{poster.filename}.{extension}"'
        return response

    def poster_pdf_view(self, request, object_id):
        return self._download(request, object_id, render_poster_pdf, "pdf", "application/pdf")

    def poster_svg_view(self, request, object_id):
        return self._download(request, object_id, render_poster_svg, "svg", "image/svg+xml")

    @admin.display(description=gettext_lazy("URL in the QR code"))
    def code_url(self, obj):
        return qr_url(obj) if obj.pk else "-"


class QrPromotionAdmin(PosterDownloads, PromotionAdmin):
    list_select_related = ["programme"]
    autocomplete_fields = []
    search_fields = ["name"]
    list_filter = ["programme", "funder"]

    @admin.display(description=gettext_lazy("period"), ordering="valid_from")
    def period(self, obj):
        return _period(obj)

    @admin.display(description=gettext_lazy("points"), ordering="points")
    def points_shown(self, obj):
        return points_text(obj.points)


@admin.register(QrEvent)
class QrEventAdmin(QrPromotionAdmin):
    form = QrEventForm
    list_display = ["name", "programme", "period", "points_shown", "claims", "funder", "store"]
    list_select_related = ["programme", "store"]
    autocomplete_fields = ["store"]
    search_help_text = gettext_lazy("Event name.")
    readonly_fields = ["claims_count", "code_url"]
    change_form_template = "admin/qrpoints/poster_change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "points"]}),
        (gettext_lazy("When"), {"fields": ["valid_from", "valid_until"]}),
        (gettext_lazy("How many"), {"fields": ["max_claims", "claims_count"]}),
        (gettext_lazy("Who pays"), {"fields": ["funder", "store"]}),
        (gettext_lazy("The code"), {"fields": ["code_url"]}),
    ]

    @admin.display(description=gettext_lazy("claimed / most"), ordering="claims_count")
    def claims(self, event):
        return f"{event.claims_count:,} / {event.max_claims:,}"

    def poster_of(self, event):
        return event_poster(event)

    def promotion_save(self, obj, *, staff, changed):
        qr_event_save(event=obj, staff=staff, changed=changed)


@admin.register(Flyer)
class FlyerAdmin(QrPromotionAdmin):
    form = FlyerForm
    list_display = ["name", "programme", "period", "points_shown", "rights", "credited", "funder"]
    autocomplete_fields = ["stores"]
    search_help_text = gettext_lazy("Flyer name.")
    readonly_fields = ["rights_count", "code_url"]
    change_form_template = "admin/qrpoints/poster_change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "name", "points", "stores"]}),
        (gettext_lazy("When"), {"fields": ["valid_from", "valid_until"]}),
        (gettext_lazy("How many"), {"fields": ["max_claims", "rights_count"]}),
        (gettext_lazy("Who pays"), {"fields": ["funder"]}),
        (gettext_lazy("The code"), {"fields": ["code_url"]}),
    ]

    @admin.display(description=gettext_lazy("scanned / most"), ordering="rights_count")
    def rights(self, flyer):
        most = _("no limit") if flyer.max_claims is None else f"{flyer.max_claims:,}"
        return f"{flyer.rights_count:,} / {most}"

    def get_queryset(self, request):
        # Counted for the rows of the page only (a subquery per row shown), through the (flyer, member) index.
        credited = (
            FlyerRight.objects.filter(flyer=OuterRef("pk"), entry__isnull=False)
            .order_by()
            .values("flyer")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(credited_count=Coalesce(Subquery(credited), 0))

    @admin.display(description=gettext_lazy("credited at a store"))
    def credited(self, flyer):
        return f"{flyer.credited_count:,}"

    def poster_of(self, flyer):
        return flyer_poster(flyer)

    def save_model(self, request, obj, form, change):
        flyer_save(flyer=obj, staff=request.user, changed=list(form.changed_data), stores=form.cleaned_data["stores"])

    def promotion_save(self, obj, *, staff, changed):
        flyer_save(flyer=obj, staff=staff, changed=changed)


@admin.register(StoreVisitCode)
class StoreVisitCodeAdmin(PosterDownloads, UnitsInListMixin, admin.ModelAdmin):
    """Each store's code at the counter. Adding one for a store retires its previous code; a code is never
    changed or deleted (a retired one stays as history)."""

    list_display = ["store", "issued_at", "issued_by", "live", "retired_at"]
    list_filter = [("retired_at", admin.EmptyFieldListFilter)]
    search_fields = ["store__code", "store__name"]
    search_help_text = gettext_lazy("Store code or name.")
    list_select_related = ["store", "issued_by"]
    autocomplete_fields = ["store"]
    fields = ["store", "issued_at", "issued_by", "retired_at", "code_url"]
    readonly_fields = ["issued_at", "issued_by", "retired_at", "code_url"]
    change_form_template = "admin/qrpoints/poster_change_form.html"
    show_full_result_count = False
    paginator = NoCountPaginator

    @admin.display(description=gettext_lazy("in use"), boolean=True)
    def live(self, code):
        return code.retired_at is None

    def poster_of(self, code):
        return visit_poster(code)

    def _refusal(self, request, code):
        if code.retired_at is not None:
            return _("This code was retired on %(when)s; print the store's code in use.") % {
                "when": datetime_text(code.retired_at)
            }
        return None

    def has_change_permission(self, request, obj=None):
        # Codes are issued, never edited: the page shows the code and its posters.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        issued = store_visit_code_issue(store=obj.store, staff=request.user)
        # The admin goes on with `obj` (its log, the redirect): it becomes the code the service issued.
        for field in StoreVisitCode._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued, field.attname))
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        # Straight to the new code's page, where its posters are printed.
        message = _("A new visit code was issued for %(store)s; its previous code no longer works.")
        self.message_user(request, message % {"store": obj.store})
        return redirect(reverse("admin:qrpoints_storevisitcode_change", args=[obj.pk]))


class QrHistoryAdmin(ReadOnlyAdmin):
    search_fields = ["member__pseudonym"]
    search_help_text = gettext_lazy("Member id.")
    autocomplete_fields = []

    @admin.display(description=gettext_lazy("points"))
    def points(self, obj):
        return points_text(obj.entry.points) if obj.entry_id else "-"


@admin.register(QrClaim)
class QrClaimAdmin(QrHistoryAdmin):
    list_display = ["claimed_at", "event", "member", "points", "funder", "store"]
    list_filter = ["event"]
    list_select_related = ["event", "member", "entry__store"]

    @admin.display(description=gettext_lazy("funded by"))
    def funder(self, claim):
        return claim.entry.get_funder_display()

    @admin.display(description=gettext_lazy("store"))
    def store(self, claim):
        return claim.entry.store or "-"


@admin.register(FlyerRight)
class FlyerRightAdmin(QrHistoryAdmin):
    list_display = ["scanned_at", "flyer", "member", "redeemed_at", "redeemed_store", "points"]
    list_filter = ["flyer", ("redeemed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["flyer", "member", "redeemed_store", "entry"]
