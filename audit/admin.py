"""The audit trail, and Django's own admin log, for reading only."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from common.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_repr", "summary_text"]
    list_filter = ["action", "object_type", ("at", admin.DateFieldListFilter)]
    # object_id is compared exactly so that its index is used.
    search_fields = ["object_repr", "=object_id"]
    search_help_text = _("What was changed (as it was named then), or its exact id.")
    list_select_related = ["actor"]
    fields = ["at", "actor", "action", "object_type", "object_id", "object_repr", "summary_text", "detail"]
    readonly_fields = fields
    ordering = ["-at", "-id"]

    @admin.display(description=_("summary"))
    def summary_text(self, event):
        # Summaries are stored in English (marked with gettext_noop where written) and shown in the reader's language.
        return gettext(event.summary) if event.summary else ""


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["action_time", "user", "action_flag", "content_type", "object_repr", "change_message_text"]
    list_filter = ["action_flag", ("action_time", admin.DateFieldListFilter), "content_type"]
    search_fields = ["object_repr", "=object_id"]
    search_help_text = _("What was changed (as it was named then), or its exact id.")
    list_select_related = ["user", "content_type"]
    fields = ["action_time", "user", "action_flag", "content_type", "object_id", "object_repr", "change_message_text"]
    readonly_fields = fields
    ordering = ["-action_time", "-id"]

    @admin.display(description=_("change message"))
    def change_message_text(self, entry):
        return entry.get_change_message()
