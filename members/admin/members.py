"""The member admin: search by blind index, registration, suspension, attaching cards."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.backoffice import BackofficeAdmin
from common.admin import ReadOnlyInline
from members.admin.base import MASK, MEMBER_ENCRYPTED_FIELDS, PageDeferringChangeList, can_view_personal_data
from members.forms import AttachCardForm, MemberForm
from members.models import Card, CardEvent, Consent, Member
from members.resources import MemberResource
from members.selectors import member_search
from members.services import (
    PERSONAL_FIELDS,
    CardInUseError,
    CardNumberError,
    card_attach,
    member_register,
    member_reinstate,
    member_set_personal_data,
    member_suspend,
)
from members.services.consents import consent_record_flags

# --- Members --------------------------------------------------------------


class CardInline(ReadOnlyInline):
    model = Card
    fk_name = "member"
    fields = ("card_type", "masked_number", "status", "created_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).defer("number")

    @admin.display(description=_("card number"))
    def masked_number(self, obj: Card) -> str:
        return obj.masked_number


class CardEventInline(ReadOnlyInline):
    model = CardEvent
    fk_name = "member"
    fields = ("at", "card", "kind", "other_card", "staff", "note")
    readonly_fields = fields
    verbose_name_plural = _("card history")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("card", "other_card", "staff")
            .defer("card__number", "other_card__number")
        )


@admin.register(Member)
class MemberAdmin(BackofficeAdmin):
    form = MemberForm
    resource_classes = [MemberResource]
    list_display = ["pseudonym", "status", "display_name", "registered_at", "postal_code", "gender", "card_count"]
    list_display_links = ["pseudonym"]
    list_filter = [
        "status",
        "gender",
        ("registered_at", admin.DateFieldListFilter),
        "opt_in_mail_magazine",
        "opt_in_direct_mail",
        "opt_in_targeted_offers",
        "terms_version",
    ]
    # Only switches the search box (and autocomplete) on: get_search_results does the searching.
    search_fields = ["pseudonym"]
    search_help_text = _(
        "Exact match on member id, name, kana, phone number, e-mail address, card number or transit IC IDm. "
        "Parts of a word do not match: personal data is encrypted."
    )
    list_select_related = []
    ordering = ["-pk"]
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [
        "pseudonym",
        "status",
        "terms_agreed_at",
        "registered_at",
        "withdrawn_at",
        "merged_into",
        "created_at",
    ]
    inlines = [CardInline, CardEventInline]
    actions = ["suspend_members", "reinstate_members"]
    attach_card_template = "admin/members/member/attach_card.html"

    # Queryset and list -----------------------------------------------------

    def get_queryset(self, request):
        active_cards = (
            Card.objects.filter(member=OuterRef("pk"), status=Card.Status.ACTIVE)
            .order_by()
            .values("member")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # A correlated subquery runs for the rows of the page only, unlike a JOIN with GROUP BY.
        return super().get_queryset(request).annotate(active_card_count=Coalesce(Subquery(active_cards), 0))

    def get_changelist(self, request, **kwargs):
        return PageDeferringChangeList

    def get_changelist_deferred_fields(self, request) -> list[str]:
        shown = {"name"} if can_view_personal_data(request) else set()
        return [field for field in MEMBER_ENCRYPTED_FIELDS if field not in shown]

    def get_list_display(self, request):
        list_display = list(super().get_list_display(request))
        if not can_view_personal_data(request):
            list_display = ["masked_name" if column == "display_name" else column for column in list_display]
        return list_display

    @admin.display(description=_("name"))
    def display_name(self, obj: Member) -> str:
        return obj.name

    @admin.display(description=_("name"))
    def masked_name(self, obj: Member) -> str:
        return MASK if obj.is_registered else ""

    @admin.display(description=_("active cards"))
    def card_count(self, obj: Member) -> int:
        return obj.active_card_count

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=member_search(query=search_term).values("pk")), False

    # Change form -----------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        if obj is not None:
            fieldsets.append((None, {"fields": ["pseudonym", "status"]}))
        if can_view_personal_data(request):
            fieldsets.append(
                (
                    _("Personal data (encrypted)"),
                    {"fields": ["name", "name_kana", "birth_date", "phone", "email", "address"]},
                )
            )
        fieldsets.append(
            (
                _("Attributes (kept in clear for statistics)"),
                {"fields": ["gender", ("birth_year", "birth_month"), "postal_code"]},
            )
        )
        consent = ["terms_version", "opt_in_mail_magazine", "opt_in_direct_mail", "opt_in_targeted_offers"]
        if obj is not None:
            consent.insert(1, "terms_agreed_at")
        fieldsets.append((_("Consent"), {"fields": consent}))
        if obj is not None:
            fieldsets.append((_("History"), {"fields": ["registered_at", "withdrawn_at", "merged_into", "created_at"]}))
        return fieldsets

    def get_inlines(self, request, obj):
        # A member being registered has no cards or history yet.
        return self.inlines if obj is not None else []

    def get_exclude(self, request, obj=None):
        # The form carries personal fields as its own fields; never let the
        # ModelForm copy them onto the instance (that would skip the blind indexes).
        return [*(super().get_exclude(request, obj) or []), *PERSONAL_FIELDS]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not can_view_personal_data(request):
            # Declared form fields survive `fields`/`exclude`; remove them for staff
            # who may not see them, so they are neither shown nor saved as empty.
            form = type(form.__name__, (form,), dict.fromkeys(PERSONAL_FIELDS))
        return form

    def save_model(self, request, obj, form, change):
        personal = form.personal_data()
        if form.is_registration or "terms_version" in form.changed_data:
            member_register(member=obj, terms_version=form.cleaned_data["terms_version"], personal=personal)
        else:
            member_set_personal_data(member=obj, **personal)
        # The form's consent boxes, recorded in the consent ledger as given at the counter by this staff member.
        consent_record_flags(
            member=obj, channel=Consent.Channel.COUNTER, staff=request.user, every=form.is_registration
        )

    def has_change_permission(self, request, obj=None):
        # A withdrawn member's record is history: nothing about it changes any more.
        if obj is not None and obj.status == Member.Status.WITHDRAWN:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Members end by withdrawal, which keeps the pseudonym and the ledger.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_attach_card": self.can_attach_card(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    # Actions ---------------------------------------------------------------

    @admin.action(description=_("Suspend selected members"), permissions=["change"])
    def suspend_members(self, request, queryset):
        done, skipped = self._run_status_service(request, queryset, member_suspend)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d member was suspended.", "%(count)d members were suspended.", done)
                % {"count": done},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d member was not active and was left unchanged.",
                    "%(count)d members were not active and were left unchanged.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Reinstate selected members"), permissions=["change"])
    def reinstate_members(self, request, queryset):
        done, skipped = self._run_status_service(request, queryset, member_reinstate)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d member was reinstated.", "%(count)d members were reinstated.", done)
                % {"count": done},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d member was not suspended and was left unchanged.",
                    "%(count)d members were not suspended and were left unchanged.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def _run_status_service(self, request, queryset, service) -> tuple[int, int]:
        done = skipped = 0
        # Only what the services read: no personal data is decrypted for a status change.
        for member in queryset.only("pk", "pseudonym", "status").order_by("pk"):
            try:
                service(member=member, staff=request.user)
            except ValueError:
                skipped += 1
            else:
                done += 1
        return done, skipped

    # Attach a card -----------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/attach-card/",
                self.admin_site.admin_view(self.attach_card_view),
                name="{}_{}_attach_card".format(*info),
            ),
            *super().get_urls(),
        ]

    def can_attach_card(self, request, member: Member | None = None) -> bool:
        return self.has_change_permission(request, member) and request.user.has_perm("members.add_card")

    def attach_card_view(self, request, object_id):
        member = self.get_object(request, unquote(object_id))
        if member is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.can_attach_card(request, member):
            raise PermissionDenied
        form = AttachCardForm(request.POST or None, member=member)
        if request.method == "POST" and form.is_valid():
            try:
                card = card_attach(
                    member=member,
                    number=form.cleaned_data["number"],
                    card_type=form.cleaned_data["card_type"],
                    staff=request.user,
                )
            except (CardInUseError, CardNumberError) as exc:
                form.add_error("number", str(exc))
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, _("The card %(card)s was attached.") % {"card": card}, messages.SUCCESS)
                return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[member.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Attach a card"),
            "subtitle": member.pseudonym,
            "opts": self.opts,
            "original": member,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.attach_card_template, context)


# --- Cards ----------------------------------------------------------------
