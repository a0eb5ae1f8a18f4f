"""Imports from an old system in the admin: the upload (checked by a background job: a dry run with its
reconciliation), the import and the rollback (background jobs too), each batch's page showing the progress
while a job runs and the report once it is done."""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.models import Task
from django_q.tasks import async_task

from common.admin import ReadOnlyAdmin, ReadOnlyInline
from common.formatting import datetime_text
from common.scoping import register_programme_paths
from legacy.checking import NO_RANK
from legacy.forms import RollbackForm, UploadForm
from legacy.models import ImportBatch, ImportFile
from legacy.services import legacy_upload

register_programme_paths({ImportBatch: "programme", ImportFile: "batch__programme"})

RUN_PERMISSION = "legacy.run_legacy_import"
REFRESH_SECONDS = 3
STALE_AFTER = datetime.timedelta(minutes=15)


def progress_phase(phase: str) -> str:
    """The phase a job writes (in English, for the logs) as the user reads it."""
    for prefix, text in (
        ("failed: ", _("Failed: %(error)s")),
        ("refused: ", _("The rollback was refused: %(error)s")),
    ):
        if phase.startswith(prefix):
            return text % {"error": phase.removeprefix(prefix)}
    if phase.startswith("reading "):
        return _("Reading %(file)s") % {"file": phase.removeprefix("reading ")}
    names = {
        "checking against the database": _("Checking against the database"),
        "writing members": _("Writing members"),
        "writing cards": _("Writing cards"),
        "writing points": _("Writing point lots"),
        "writing ranks": _("Writing ranks"),
        "reconciling": _("Reconciling with the files"),
        "checked": _("Checked: ready to import"),
        "rejected": _("Rejected: the files have problems"),
        "imported": _("Imported into the ledger"),
        "rolling back": _("Rolling back"),
        "rolled back": _("Rolled back"),
    }
    return names.get(phase, phase)


class ImportFileInline(ReadOnlyInline):
    model = ImportFile
    fields = ["name", "size", "sha256"]
    readonly_fields = fields


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "programme", "status", "members", "cards", "lots", "points", "created_at", "created_by"]
    list_display_links = ["pk"]
    list_filter = ["status", "programme"]
    list_select_related = ["programme", "created_by"]
    search_fields = ["programme__code"]
    change_list_template = "admin/legacy/importbatch/change_list.html"
    change_form_template = "admin/legacy/importbatch/change_form.html"
    inlines = [ImportFileInline]
    fieldsets = [
        (None, {"fields": ["programme", "status", "progress_text", "source", "created_at", "created_by"]}),
        (gettext_lazy("Report"), {"fields": ["report_table"]}),
        (gettext_lazy("Import"), {"fields": ["imported_at", "imported_by", "operation"]}),
        (gettext_lazy("Rollback"), {"fields": ["rolled_back_at", "rolled_back_by", "rollback_reason"]}),
    ]
    readonly_fields = ["progress_text", "report_table"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.upload_view), name="legacy_importbatch_new"),
            path("<int:pk>/import/", view(self.import_view), name="legacy_importbatch_import"),
            path("<int:pk>/rollback/", view(self.rollback_view), name="legacy_importbatch_rollback"),
            *super().get_urls(),
        ]

    # --- what the pages show -------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("progress"))
    def progress_text(self, batch):
        progress = batch.progress or {}
        if not progress.get("phase"):
            return "—"
        text = progress_phase(progress["phase"])
        if progress.get("total"):
            text += f" {progress.get('done', 0):,} / {progress['total']:,}"
        at = _progress_time(progress)
        if at is not None:
            text += " " + _("(updated %(at)s)") % {"at": f"{datetime_text(at)}:{at:%S}"}
        return text

    @admin.display(description=gettext_lazy("report"))
    def report_table(self, batch):
        report = batch.report or {}
        if not report:
            return "—"
        for rows in (report.get("by_rank", []),):
            for row in rows:
                row["label"] = row["key"] if row["key"] != NO_RANK else _("no rank")
        return render_to_string("admin/legacy/importbatch/report.html", {"report": report, "batch": batch})

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": request.user.has_perm(RUN_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if batch is not None:
            extra_context.update(self._state(request, batch))
        return super().change_view(request, object_id, form_url, extra_context)

    def _state(self, request, batch: ImportBatch) -> dict:
        progress = batch.progress or {}
        at = _progress_time(progress)
        recent = at is not None and timezone.now() - at < STALE_AFTER
        task_id = request.GET.get("task", "")[:32]
        task = Task.objects.filter(id=task_id).first() if task_id else None
        failure = ""
        if task is not None and not task.success:
            failure = str(task.result).split(" : Traceback")[0][:500]
        running = batch.status in ImportBatch.RUNNING and (recent or (bool(task_id) and task is None))
        can_run = request.user.has_perm(RUN_PERMISSION)
        phase = progress.get("phase", "")
        return {
            "job_running": running and not failure,
            "job_failure": failure,
            "rollback_refused": progress_phase(phase) if phase.startswith("refused: ") else "",
            "refresh_seconds": REFRESH_SECONDS,
            "can_import": can_run
            and batch.status in (ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
            and batch.files.exclude(file="").exists(),
            "can_roll_back": can_run and batch.status == ImportBatch.Status.IMPORTED,
        }

    # --- the processes ----------------------------------------------------------------------------------

    def _require_run(self, request):
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied

    def _page(self, request, template, title, **context):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context}
        return TemplateResponse(request, template, context)

    def _batch_url(self, batch: ImportBatch, task_id: str = "") -> str:
        url = reverse("admin:legacy_importbatch_change", args=[batch.pk])
        return f"{url}?task={task_id}" if task_id else url

    def upload_view(self, request):
        self._require_run(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            batch = legacy_upload(
                programme=form.cleaned_data["programme"], files=form.files_by_name(), staff=request.user
            )
            task_id = async_task("legacy.tasks.check_batch", batch.pk, task_name=f"legacy check {batch.pk}")
            messages.success(
                request,
                _("The files were received and are being checked (a dry run); this page shows the result."),
            )
            return redirect(self._batch_url(batch, task_id))
        return self._page(request, "admin/legacy/importbatch/upload.html", _("Bring an old system over"), form=form)

    def import_view(self, request, pk):
        # Another programme's batch is, to a company's staff, no batch at all (404 before any refusal).
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        self._require_run(request)
        if request.method == "POST":
            if batch.status not in (ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED):
                messages.error(request, _("Only a checked batch can be imported."))
                return redirect(self._batch_url(batch))
            task_id = async_task(
                "legacy.tasks.import_batch", batch.pk, request.user.pk, task_name=f"legacy import {batch.pk}"
            )
            messages.success(request, _("The import was queued; this page shows its progress."))
            return redirect(self._batch_url(batch, task_id))
        counts = (batch.report or {}).get("counts", {})
        return self._page(
            request,
            "admin/legacy/importbatch/confirm.html",
            _("Import batch %(id)s") % {"id": batch.pk},
            batch=batch,
            question=_(
                "Write %(members)s members, %(cards)s cards, %(lots)s point lots (%(points)s points) and %(ranks)s "
                "ranks into %(programme)s?"
            )
            % {
                **{key: f"{counts.get(key, 0):,}" for key in ("members", "cards", "lots", "points", "ranks")},
                "programme": batch.programme,
            },
            warning=_(
                "The files are checked again, then everything is written in one transaction or nothing is. "
                "The import can be rolled back whole as long as nothing has touched its points."
            ),
            submit=_("Import into the ledger"),
            form=None,
        )

    def rollback_view(self, request, pk):
        # Another programme's batch is, to a company's staff, no batch at all (404 before any refusal).
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        self._require_run(request)
        form = RollbackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            task_id = async_task(
                "legacy.tasks.rollback_batch",
                batch.pk,
                request.user.pk,
                form.cleaned_data["reason"],
                task_name=f"legacy rollback {batch.pk}",
            )
            messages.success(request, _("The rollback was queued; this page shows its progress."))
            return redirect(self._batch_url(batch, task_id))
        return self._page(
            request,
            "admin/legacy/importbatch/confirm.html",
            _("Roll batch %(id)s back") % {"id": batch.pk},
            batch=batch,
            question=_(
                "Take back every point this import brought over, end its %(members)s memberships (personal data "
                "erased, cards blocked and their numbers freed) and its ranks?"
            )
            % {"members": f"{batch.members:,}"},
            warning=_("Refused, with the reason, once any of its points was used, expired or moved."),
            submit=_("Roll back"),
            form=form,
        )


def _progress_time(progress: dict) -> datetime.datetime | None:
    try:
        return timezone.localtime(datetime.datetime.fromisoformat(progress["at"]))
    except (KeyError, TypeError, ValueError):
        return None
