"""Mail to members in the back office: operators write a mailing (text and segment), see how many members it
reaches now, send it now or schedule it, and follow its progress and send log; each programme's monthly
reminder of expiring points. Every write goes through mailing.services, which records the audit event."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.admin import NoCountPaginator, ReadOnlyAdmin, UnitsInListMixin
from common.formatting import datetime_text
from common.scoping import register_programme_paths
from mailing.forms import ExpiryReminderForm, MailingForm, ScheduleForm
from mailing.models import Delivery, ExpiryReminder, Mailing
from mailing.selectors import mailing_reach, reach_shown
from mailing.services import (
    MailingError,
    expiry_reminder_save,
    mailing_cancel,
    mailing_save,
    mailing_schedule,
    mailing_send_now,
)
from members.models import Member
from ranks.models import Rank
from stores.models import Store

register_programme_paths({Mailing: "programme", Delivery: "mailing__programme", ExpiryReminder: "programme"})

SEND_PERMISSION = "mailing.send_mailing"
REFRESH_SECONDS = 5


def members_text(count: int | None) -> str:
    """ "1,234名", or "5名未満" for a group too small to be shown."""
    shown = reach_shown(count or 0)
    if shown is None:
        return _("fewer than 5 members")
    return _("%(count)s members") % {"count": f"{shown:,}"}


def _joined(values) -> str:
    return ", ".join(str(value) for value in values) or "—"


def _label(name: str):
    return Mailing._meta.get_field(name).verbose_name


# For a mailing that can no longer be changed: its segment's lists as words, not as the JSON stored.
READABLE_LISTS = {
    "genders": "genders_text",
    "postal_prefixes": "postal_prefixes_text",
    "rank_ids": "ranks_text",
    "store_ids": "stores_text",
}


@admin.register(Mailing)
class MailingAdmin(UnitsInListMixin, admin.ModelAdmin):
    form = MailingForm
    list_display = ["subject", "programme", "purpose", "status", "send_at", "progress_short"]
    list_filter = ["status", "purpose", "programme"]
    search_fields = ["subject"]
    search_help_text = gettext_lazy("Subject.")
    list_select_related = ["programme"]
    autocomplete_fields = []
    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50
    change_form_template = "admin/mailing/mailing/change_form.html"
    sending_fields = ["status", "progress_text", "send_log", "send_at", "started_at", "finished_at"]
    fieldsets = [
        (None, {"fields": ["programme", "purpose", "subject", "body"]}),
        (
            gettext_lazy("Who"),
            {
                "fields": [
                    "genders",
                    "age_min",
                    "age_max",
                    "postal_prefixes",
                    "rank_ids",
                    "visited_within_days",
                    "not_visited_for_days",
                    "store_ids",
                    "expiring_next_month",
                ]
            },
        ),
    ]

    # --- the list ------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("sent / skipped / failed"))
    def progress_short(self, mailing):
        if mailing.status in Mailing.EDITABLE:
            return "—"
        return f"{mailing.sent_count:,} / {mailing.skipped_count:,} / {mailing.failed_count:,}"

    # --- the page ------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(self.fieldsets)
        if obj is not None and not self.has_change_permission(request, obj):
            fieldsets = [
                (title, {**options, "fields": [READABLE_LISTS.get(name, name) for name in options["fields"]]})
                for title, options in fieldsets
            ]
        if obj is not None:
            # Whom the segment reaches, under its conditions; then the sending.
            title, options = fieldsets[1]
            fieldsets[1] = (title, {**options, "fields": [*options["fields"], "reach_text"]})
            fieldsets.append((gettext_lazy("Sending and progress"), {"fields": self.sending_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return ["reach_text", *self.sending_fields, *READABLE_LISTS.values()]
        return ["reach_text", *self.sending_fields]

    @admin.display(description=gettext_lazy("members reached"))
    def reach_text(self, mailing):
        if mailing.status in Mailing.EDITABLE:
            return format_html(
                '<span id="mailing-reach">{}</span> <span class="help">{}</span>',
                members_text(mailing_reach(mailing)),
                _("if it were sent now: the segment's members with an e-mail address whose consent holds now"),
            )
        return format_html(
            '<span id="mailing-reach">{}</span> <span class="help">{}</span>',
            members_text(mailing.target_count),
            _("when sending began"),
        )

    @admin.display(description=gettext_lazy("progress"))
    def progress_text(self, mailing):
        if mailing.status in Mailing.EDITABLE:
            return "—"
        text = _("%(sent)s sent, %(skipped)s skipped, %(failed)s failed") % {
            "sent": f"{mailing.sent_count:,}",
            "skipped": f"{mailing.skipped_count:,}",
            "failed": f"{mailing.failed_count:,}",
        }
        pending = mailing.deliveries.filter(status=Delivery.Status.PENDING).count()
        if pending and mailing.status != Mailing.Status.SENDING:
            text += " " + _("(%(count)s claimed but not confirmed: the worker stopped; they are not sent again)") % {
                "count": f"{pending:,}"
            }
        if mailing.status == Mailing.Status.SENDING and mailing.progress_at:
            text += " " + _("(updated %(at)s)") % {"at": datetime_text(mailing.progress_at)}
        return format_html('<span id="mailing-progress">{}</span>', text)

    @admin.display(description=gettext_lazy("send log"))
    def send_log(self, mailing):
        if mailing.status in Mailing.EDITABLE:
            return "—"
        url = reverse("admin:mailing_delivery_changelist") + f"?mailing__id__exact={mailing.pk}"
        return format_html('<a href="{}" id="mailing-send-log">{}</a>', url, _("Each member's mail"))

    @admin.display(description=_label("genders"))
    def genders_text(self, mailing):
        return _joined(Member.Gender(gender).label for gender in mailing.genders)

    @admin.display(description=_label("postal_prefixes"))
    def postal_prefixes_text(self, mailing):
        return _joined(mailing.postal_prefixes)

    @admin.display(description=_label("rank_ids"))
    def ranks_text(self, mailing):
        return _joined(Rank.objects.filter(pk__in=mailing.rank_ids).order_by("threshold_yen"))

    @admin.display(description=_label("store_ids"))
    def stores_text(self, mailing):
        return _joined(Store.objects.filter(pk__in=mailing.store_ids).order_by("code"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id is not None:
            mailing = self.get_object(request, object_id)
            if mailing is not None:
                can_send = request.user.has_perm(SEND_PERMISSION)
                extra_context.update(
                    can_send=can_send and mailing.status in Mailing.EDITABLE,
                    can_cancel=can_send and mailing.status in (*Mailing.EDITABLE, Mailing.Status.SENDING),
                    sending=mailing.status == Mailing.Status.SENDING,
                    refresh_seconds=REFRESH_SECONDS,
                )
        return super().changeform_view(request, object_id, form_url, extra_context)

    # --- permissions: only a draft or a scheduled mailing changes; none is deleted ------------------

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status in Mailing.EDITABLE)

    def has_delete_permission(self, request, obj=None):
        return False

    # --- writes, all through the services ------------------------------------------------------

    def save_model(self, request, obj, form, change):
        mailing_save(mailing=obj, staff=request.user, changed=list(form.changed_data))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/send/", view(self.send_view), name="mailing_mailing_send"),
            path("<int:pk>/schedule/", view(self.schedule_view), name="mailing_mailing_schedule"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="mailing_mailing_cancel"),
            *super().get_urls(),
        ]

    def _mailing(self, request, pk) -> Mailing:
        # Another programme's mailing is, to a company's staff, no mailing at all (404 before any refusal).
        mailing = get_object_or_404(self.get_queryset(request).select_related("programme"), pk=pk)
        if not request.user.has_perm(SEND_PERMISSION):
            raise PermissionDenied
        return mailing

    def _page(self, request, mailing, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": mailing,
            "title": title,
            "change_url": reverse("admin:mailing_mailing_change", args=[mailing.pk]),
            **context,
        }
        return TemplateResponse(request, "admin/mailing/mailing/confirm.html", context)

    def _back(self, mailing):
        return redirect(reverse("admin:mailing_mailing_change", args=[mailing.pk]))

    def send_view(self, request, pk):
        mailing = self._mailing(request, pk)
        if request.method == "POST":
            try:
                mailing = mailing_send_now(mailing=mailing, staff=request.user)
            except MailingError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("Sending began to %(members)s; this page shows its progress.")
                    % {"members": members_text(mailing.target_count)},
                )
            return self._back(mailing)
        return self._page(
            request,
            mailing,
            _("Send “%(subject)s” now") % {"subject": mailing.subject},
            question=_("Send this mailing now to %(members)s?") % {"members": members_text(mailing_reach(mailing))},
            warning=_(
                "Each member's consent is read again just before their mail is sent; a member who withdrew "
                "it in the meantime is skipped. A sent mail cannot be called back."
            ),
            submit=_("Send now"),
            submit_id="mailing-send-confirm",
        )

    def schedule_view(self, request, pk):
        mailing = self._mailing(request, pk)
        form = ScheduleForm(request.POST or None, initial={"send_at": mailing.send_at})
        if request.method == "POST" and form.is_valid():
            try:
                mailing = mailing_schedule(mailing=mailing, send_at=form.cleaned_data["send_at"], staff=request.user)
            except MailingError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request, _("The mailing will be sent at %(at)s.") % {"at": datetime_text(mailing.send_at)}
                )
            return self._back(mailing)
        return self._page(
            request,
            mailing,
            _("Schedule “%(subject)s”") % {"subject": mailing.subject},
            question=_("It reaches %(members)s now; who receives it is decided when it is sent.")
            % {"members": members_text(mailing_reach(mailing))},
            form=form,
            submit=_("Schedule"),
            submit_id="mailing-schedule-confirm",
        )

    def cancel_view(self, request, pk):
        mailing = self._mailing(request, pk)
        if request.method == "POST":
            try:
                mailing_cancel(mailing=mailing, staff=request.user)
            except MailingError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("The mailing was cancelled."))
            return self._back(mailing)
        return self._page(
            request,
            mailing,
            _("Cancel “%(subject)s”") % {"subject": mailing.subject},
            question=_("Cancel this mailing? Mail already sent stays sent; nobody else receives it."),
            submit=_("Cancel the mailing"),
            submit_id="mailing-cancel-confirm",
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["at", "mailing", "member", "status", "error"]
    list_filter = ["status"]
    list_select_related = ["mailing", "member"]
    search_fields = ["member__pseudonym__exact"]
    search_help_text = gettext_lazy("Member id (exact).")
    fields = ["mailing", "member", "status", "at", "error"]


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(UnitsInListMixin, admin.ModelAdmin):
    form = ExpiryReminderForm
    list_display = ["programme", "active", "subject", "updated_at"]
    list_filter = ["active"]
    search_fields = ["subject"]
    list_select_related = ["programme"]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        # Turned off, not deleted: its past months' mailings stay as they were.
        return False

    def save_model(self, request, obj, form, change):
        expiry_reminder_save(reminder=obj, staff=request.user, changed=list(form.changed_data))
