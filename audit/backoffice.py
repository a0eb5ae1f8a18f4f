"""The audited back-office admin base: every change in the audit trail, imports and exports in the
formats the secretariat uses, and changelists that stay fast on a million rows."""

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from import_export.forms import SelectableFieldsExportForm
from import_export.resources import modelresource_factory
from import_export.results import RowResult

from audit.models import AuditEvent
from audit.services import audit_record
from common.admin import NoCountPaginator, UnitsInListMixin
from common.imports import (
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    BackofficeResource,
    CSVExportCP932,
    ImportFileError,
    import_problems,
    import_rejected,
)
from common.replica import reading_from_replica

# More lines than this and the page would be a wall of red; the table below
# the messages still has every row.
MAX_PROBLEM_MESSAGES = 50


def audit_import(resource, counts: dict) -> None:
    """An import that was written, in its transaction: counts only, for the file's cells may be personal
    data."""
    audit_record(
        actor=resource.user,
        action=AuditEvent.Action.IMPORT,
        object_type=resource._meta.model._meta.label,
        summary=f"{counts['rows']} rows: {counts['new']} new, {counts['updated']} updated",
        detail={**counts, "resource": type(resource).__name__},
    )


class AuditedAdminMixin:
    """Mirror Django's admin log into the append-only audit trail, naming
    changed fields but never their values."""

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action=AuditEvent.Action.ADD, obj=obj, detail={"message": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(actor=request.user, action=AuditEvent.Action.CHANGE, obj=obj, detail={"message": message})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action=AuditEvent.Action.DELETE, obj=obj)
        return super().log_deletions(request, queryset)


class LabelledExportForm(SelectableFieldsExportForm):
    """The export's tick boxes named as the file's headers will be, in the user's language."""

    def _get_field_label(self, resource, field_name):
        return resource().column_labels().get(resource.fields[field_name].column_name, field_name)


class ImportExportHooksMixin:
    """CSV in UTF-8 or Shift_JIS and XLSX; all-or-nothing imports that list
    every problem; exports written to the audit trail.

    Imports are audited inside the import's transaction (the resource calls back
    `audit_import` when it has written), so a rolled-back import leaves no event.
    Resources receive the request's user, which decides, for example, whether
    members' personal data is exported (members.view_personal_data).
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    export_form_class = LabelledExportForm
    # Only text formats are decoded with this; our CSV format is binary and
    # detects UTF-8 (with or without BOM) or cp932 itself.
    from_encoding = "utf-8-sig"

    def get_resource_classes(self, request):
        # An admin without a resource of its own exports through the back-office one too: Japanese headers,
        # formula cells neutralised.
        if not self.resource_classes:
            return [modelresource_factory(self.model, resource_class=BackofficeResource)]
        return super().get_resource_classes(request)

    def get_resource_kwargs(self, request, *args, **kwargs):
        kwargs = super().get_resource_kwargs(request, *args, **kwargs)
        kwargs["user"] = request.user
        kwargs["on_imported"] = audit_import
        return kwargs

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_import_template"
        view = self.admin_site.admin_view(self.import_template_view)
        return [path("import-template/", view, name=name), *super().get_urls()]

    def import_template_view(self, request):
        """A CSV with the import's headers (in the user's language) and no rows, to fill in: UTF-8 with a BOM,
        which Excel opens as Japanese."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        resource_class = self.get_import_resource_classes(request)[0]
        resource = resource_class(**self.get_import_resource_kwargs(request))
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerow(resource.template_headers())
        response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}-template.csv"'
        return response

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["template_csv_url"] = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template", current_app=self.admin_site.name
        )
        return context

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        if context.get("fields_list"):
            # The columns the page lists, as the template CSV heads them (import-export lists internal names).
            resources = [
                resource_class(**self.get_import_resource_kwargs(request))
                for resource_class in self.get_import_resource_classes(request)
            ]
            context["fields_list"] = [
                (resource.get_display_name(), resource.template_headers()) for resource in resources
            ]
        result = context.get("result")
        if result is not None and import_rejected(result):
            self.report_rejected_import(request, result)
        return response

    def add_success_message(self, result, request):
        totals = result.totals
        message = _("Import finished: %(new)d new, %(updated)d updated, %(unchanged)d unchanged (%(model)s).") % {
            "new": totals[RowResult.IMPORT_TYPE_NEW],
            "updated": totals[RowResult.IMPORT_TYPE_UPDATE],
            "unchanged": totals[RowResult.IMPORT_TYPE_SKIP],
            "model": self.opts.verbose_name_plural,
        }
        messages.success(request, message)

    def process_result(self, result, request):
        # The confirm step imports again; if the data changed since the dry
        # run and a row now fails, everything was rolled back: say so instead
        # of "Import finished".
        if import_rejected(result):
            self.report_rejected_import(request, result)
            return self.rejected_import_response(request, result)
        return super().process_result(result, request)

    def report_rejected_import(self, request, result):
        messages.error(
            request,
            _(
                "The file was rejected and nothing was imported. Correct every problem listed and upload it again. "
                "Row 1 is the first row under the header."
            ),
        )
        problems = import_problems(result)
        for line in problems[:MAX_PROBLEM_MESSAGES]:
            messages.error(request, line)
        if len(problems) > MAX_PROBLEM_MESSAGES:
            messages.error(
                request, _("…and %(count)d more problems.") % {"count": len(problems) - MAX_PROBLEM_MESSAGES}
            )

    def rejected_import_response(self, request, result):
        form = self.get_import_form_class(request)(self.get_import_formats(), self.get_import_resource_classes(request))
        context = self.get_import_context_data()
        context.update(self.admin_site.each_context(request))
        context.update(
            title=_("Import"),
            form=form,
            opts=self.model._meta,
            media=self.media + form.media,
            result=result,
            fields_list=[],
            import_error_display=self.import_error_display,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def get_export_filename(self, request, queryset, file_format):
        name = super().get_export_filename(request, queryset, file_format)
        if isinstance(file_format, CSVExportCP932):
            # Both CSVs end in .csv; say which one this is.
            stem, _dot, extension = name.rpartition(".")
            return f"{stem}-sjis.{extension}"
        return name

    def get_data_for_export(self, request, queryset, **kwargs):
        # The rows from the replica when one is configured; the audit row after them on the primary.
        with reading_from_replica():
            dataset = super().get_data_for_export(request, queryset, **kwargs)
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=self.model._meta.label,
            summary=f"{len(dataset)} rows",
            # Column names tell an auditor whether personal data left the system.
            detail={"rows": len(dataset), "columns": list(dataset.headers or [])},
        )
        return dataset


class BackofficeAdmin(AuditedAdminMixin, ImportExportHooksMixin, UnitsInListMixin, ImportExportModelAdmin):
    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 50


class PromotionAdmin(BackofficeAdmin):
    """Campaigns, coupon templates and rallies: saved through their service (which writes the audit row, so
    Django's admin log is kept without a second row), activated and paused or ended by actions that call the
    service for each, never deleted (bonuses, coupons and stamps refer to them), never imported (an import
    would write around the service).

    Subclasses call their services in `promotion_save` and `promotion_set_status`, and say what an action did
    in `status_messages` ({status: (singular, plural)}, with %(count)d)."""

    status_messages: dict[str, tuple[str, str]] = {}

    def promotion_save(self, obj, *, staff, changed: list[str]) -> None:
        raise NotImplementedError

    def promotion_set_status(self, obj, *, status: str, staff) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        self.promotion_save(obj, staff=request.user, changed=list(form.changed_data))

    def log_addition(self, request, obj, message):
        # The service has recorded it in the audit trail; keep Django's admin log only.
        return super(AuditedAdminMixin, self).log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return super(AuditedAdminMixin, self).log_change(request, obj, message)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_import_permission(self, request):
        return False

    def set_status(self, request, queryset, status: str) -> None:
        changed = 0
        for obj in queryset.exclude(status=status).order_by("pk"):
            self.promotion_set_status(obj, status=status, staff=request.user)
            changed += 1
        singular, plural = self.status_messages[status]
        text = ngettext(singular, plural, changed) % {"count": changed}
        self.message_user(request, text, messages.SUCCESS if changed else messages.WARNING)
