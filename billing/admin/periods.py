"""Billing periods: the close (queued for the worker, its progress on the period page), the tie-out,
sending the documents to merchants, and reopening a period whose documents were not sent."""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_q.models import Task
from django_q.tasks import async_task

from billing.admin.forms import ClosePeriodForm, ReopenForm
from billing.models import Period, Statement
from billing.services import CloseError, period_get_or_create, period_reopen, period_send
from common.admin import ReadOnlyAdmin
from common.formatting import date_text, datetime_text
from common.scoping import narrow_form, scoped
from points.models import Entry
from stores.models import Store

CHANGE_PERMISSION = "billing.change_period"
# A page watching a close reloads itself this often (seconds), while the close has said something lately.
REFRESH_SECONDS = 3
STALE_AFTER = datetime.timedelta(minutes=15)
TIE_OUT_KINDS = ("earn", "bonus", "spend", "void")


def progress_phase(phase: str) -> str:
    """The phase the close writes (in English, for the logs) as the user reads it."""
    if phase.startswith("failed: "):
        return _("Failed: %(error)s") % {"error": phase.removeprefix("failed: ")}
    names = {
        "reading the ledger": _("Reading the ledger"),
        "documents": _("Rendering the PDFs"),
        "closed": _("Close finished"),
    }
    return names.get(phase, phase)


def progress_time(progress: dict) -> datetime.datetime | None:
    try:
        return timezone.localtime(datetime.datetime.fromisoformat(progress["at"]))
    except (KeyError, TypeError, ValueError):
        return None


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    """Periods are made and changed only by the close, the send and the reopen, all through services."""

    list_display = ["__str__", "programme", "status", "progress_text", "ties_out", "closed_at", "closed_by"]
    list_filter = ["status", "programme", "year"]
    search_fields = ["programme__code", "programme__name"]
    search_help_text = gettext_lazy("Programme code or name.")
    list_select_related = ["programme", "closed_by"]
    change_list_template = "admin/billing/period/change_list.html"
    change_form_template = "admin/billing/period/change_form.html"
    fieldsets = [
        (None, {"fields": ["programme", "label", "dates", "status", "progress_text", "statements_link"]}),
        (gettext_lazy("Month-end close"), {"fields": ["closed_at", "closed_by"]}),
        (gettext_lazy("Tie-out"), {"fields": ["tie_out_table"]}),
    ]
    readonly_fields = ["label", "dates", "progress_text", "statements_link", "tie_out_table"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("close/", view(self.close_view), name="billing_period_close"),
            path("<int:pk>/send/", view(self.send_view), name="billing_period_send"),
            path("<int:pk>/reopen/", view(self.reopen_view), name="billing_period_reopen"),
            *super().get_urls(),
        ]

    # --- what the pages show -------------------------------------------------------------

    @admin.display(description=gettext_lazy("period"))
    def label(self, period):
        return period.label

    @admin.display(description=gettext_lazy("dates"))
    def dates(self, period):
        last = timezone.localdate(period.ends_at) - datetime.timedelta(days=1)
        return f"{date_text(timezone.localdate(period.starts_at))} – {date_text(last)}"

    @admin.display(description=gettext_lazy("progress"))
    def progress_text(self, period):
        progress = period.progress or {}
        if not progress.get("phase"):
            return "—"
        text = progress_phase(progress["phase"])
        if progress["phase"] == "closed":
            return _("Close finished: %(count)s statements, each with its PDF") % {"count": f"{progress['total']:,}"}
        if progress.get("total"):
            text += f" {progress.get('done', 0):,} / {progress['total']:,}"
        at = progress_time(progress)
        if at is not None:
            text += " " + _("(updated %(at)s)") % {"at": f"{datetime_text(at)}:{at:%S}"}
        return text

    @admin.display(description=gettext_lazy("ties out"), boolean=True)
    def ties_out(self, period):
        return period.tie_out.get("ties_out") if period.tie_out else None

    @admin.display(description=gettext_lazy("statements"))
    def statements_link(self, period):
        count = period.statements.exclude(status=Statement.Status.CANCELLED).count()
        url = reverse("admin:billing_statement_changelist") + f"?period__id__exact={period.pk}"
        text = ngettext("%(count)d statement", "%(count)d statements", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=gettext_lazy("tie-out"))
    def tie_out_table(self, period):
        tie = period.tie_out or {}
        if not tie:
            return "—"
        kinds = dict(Entry.Kind.choices)
        statement_points, ledger_points = tie.get("statement_points", {}), tie.get("ledger_points_at_stores", {})
        rows = [
            {
                "label": kinds.get(kind, kind),
                "statements": f"{statement_points.get(kind, 0):,}",
                "ledger": f"{ledger_points.get(kind, 0):,}",
                "equal": statement_points.get(kind, 0) == ledger_points.get(kind, 0),
            }
            for kind in TIE_OUT_KINDS
        ]
        movement = tie.get("ledger_movement", 0)
        before, after = tie.get("outstanding_before", 0), tie.get("outstanding_after", 0)
        context = {
            "rows": rows,
            "movement": f"{movement:+,}",
            "outstanding_before": f"{before:,}",
            "outstanding_after": f"{after:,}",
            "outstanding_change": f"{after - before:+,}",
            "movement_equal": after - before == movement,
            "statements": f"{tie.get('statements', 0):,}",
            "net_yen": f"{tie.get('net_yen', 0):+,}",
            "tax_yen": f"{tie.get('tax_yen', 0):,}",
            "unbilled_stores": Store.objects.filter(pk__in=tie.get("unbilled_stores", [])).values_list(
                "code", flat=True
            ),
            "ties_out": tie.get("ties_out", False),
        }
        return render_to_string("admin/billing/period/tie_out.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_close": request.user.has_perm(CHANGE_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        period = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if period is not None:
            extra_context.update(self._state(request, period))
        return super().change_view(request, object_id, form_url, extra_context)

    def _state(self, request, period: Period) -> dict:
        """Whether a close is running (the page then reloads itself), and which buttons apply."""
        progress = period.progress or {}
        at = progress_time(progress)
        recent = at is not None and timezone.now() - at < STALE_AFTER
        rendering = progress.get("phase") == "documents" and progress.get("done", 0) < progress.get("total", 0)
        task_id = request.GET.get("task", "")[:32]
        task = Task.objects.filter(id=task_id).first() if task_id else None
        waiting = bool(task_id) and task is None and period.status != Period.Status.CLOSED
        failure = ""
        if task is not None and not task.success and not progress.get("phase", "").startswith("failed"):
            failure = str(task.result).split(" : Traceback")[0][:500]
        live = period.statements.exclude(status=Statement.Status.CANCELLED)
        closed = period.status == Period.Status.CLOSED
        can_act = request.user.has_perm(CHANGE_PERMISSION)
        return {
            # A close whose worker was killed says nothing more; the page stops reloading after a while.
            "close_running": waiting or ((period.status == Period.Status.CLOSING or rendering) and recent),
            "close_waiting": waiting,
            "close_failure": failure,
            "refresh_seconds": REFRESH_SECONDS,
            "can_send": can_act and closed and live.filter(status=Statement.Status.ISSUED).exists(),
            "can_reopen": can_act and closed and not live.filter(sent_at__isnull=False).exists(),
        }

    # --- the processes -------------------------------------------------------------------

    def _require_change(self, request):
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied

    def _page(self, request, template, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **context,
        }
        return TemplateResponse(request, template, context)

    def _period_url(self, period: Period, **query) -> str:
        url = reverse("admin:billing_period_change", args=[period.pk])
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def close_view(self, request):
        self._require_change(request)
        form = ClosePeriodForm(request.POST or None)
        narrow_form(request, form)
        if request.method == "POST" and form.is_valid():
            programme = form.cleaned_data["programme"]
            year, month = form.cleaned_data["period"]
            try:
                period = period_get_or_create(programme=programme, year=year, month=month)
            except CloseError as error:
                form.add_error(None, str(error))
            else:
                task_id = async_task(
                    "billing.tasks.close_period",
                    programme.pk,
                    year,
                    month,
                    request.user.pk,
                    task_name=f"close {programme.code} {year}-{month:02d}",
                )
                messages.success(
                    request,
                    _(
                        "The close of %(period)s was queued. This page shows its progress; the statements "
                        "appear when it has finished."
                    )
                    % {"period": period.label},
                )
                return redirect(self._period_url(period, task=task_id))
        return self._page(request, "admin/billing/period/close.html", _("Close a period"), form=form)

    def send_view(self, request, pk):
        self._require_change(request)
        period = get_object_or_404(scoped(request, Period.objects.all()), pk=pk)
        unsent = period.statements.filter(status=Statement.Status.ISSUED).count()
        if request.method == "POST":
            try:
                sent = period_send(period=period, staff=request.user)
            except ValueError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d statement was published in the merchant portal and its merchant notified.",
                        "%(count)d statements were published in the merchant portal and their merchants notified.",
                        sent,
                    )
                    % {"count": sent},
                )
            return redirect(self._period_url(period))
        return self._page(
            request,
            "admin/billing/period/confirm.html",
            _("Send the documents of %(period)s to merchants") % {"period": period.label},
            period=period,
            question=ngettext(
                "Publish %(count)d statement in the merchant portal and e-mail its merchant?",
                "Publish %(count)d statements in the merchant portal and e-mail their merchants?",
                unsent,
            )
            % {"count": unsent},
            warning=_("After this the period can no longer be reopened; corrections go into the next period."),
            submit=_("Send the documents"),
        )

    def reopen_view(self, request, pk):
        self._require_change(request)
        period = get_object_or_404(scoped(request, Period.objects.all()), pk=pk)
        form = ReopenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cancelled = period_reopen(period=period, staff=request.user, reason=form.cleaned_data["reason"])
            except CloseError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    ngettext(
                        "The period was reopened; %(count)d statement was cancelled and keeps its number.",
                        "The period was reopened; %(count)d statements were cancelled and keep their numbers.",
                        cancelled,
                    )
                    % {"count": cancelled},
                )
            return redirect(self._period_url(period))
        return self._page(
            request,
            "admin/billing/period/confirm.html",
            _("Reopen %(period)s") % {"period": period.label},
            period=period,
            form=form,
            warning=_(
                "Its statements are cancelled (their numbers and PDFs stay on file) and the period can be closed again."
            ),
            submit=_("Reopen"),
        )
