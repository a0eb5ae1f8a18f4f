"""The resource base every import shares: whole-file rejection, duplicate keys, and a call back once a
file is written (the admin audits it there)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils import translation
from django.utils.translation import gettext
from import_export import resources, widgets
from import_export.results import Error, Result, RowResult
from import_export.utils import get_related_model

from common.imports.formats import ImportFileError, neutralise_formula, restore_neutralised
from common.imports.widgets import (
    IsoDateWidget,
    LocalDateTimeWidget,
    LookupWidget,
    StrictBooleanWidget,
    StrictIntegerWidget,
)

logger = logging.getLogger(__name__)


# --- Results ----------------------------------------------------------------


class ImportProblem(Error):
    """An import error shown without a Python traceback (it is logged instead)."""

    @property
    def traceback(self):
        return ""


def import_rejected(result: Result) -> bool:
    return result.has_errors() or result.has_validation_errors()


def import_problems(result: Result) -> list[str]:
    """Every reason the file was rejected, one line each: the file's, then each row's in order (each bad value
    under its column's header, see BackofficeResource.import_data)."""

    def line(number, message, field=NON_FIELD_ERRORS):
        if field == NON_FIELD_ERRORS:
            return gettext("Row %(number)s: %(message)s") % {"number": number, "message": message}
        return gettext("Row %(number)s: %(field)s: %(message)s") % {
            "number": number,
            "field": field,
            "message": message,
        }

    by_row = [
        (error_row.number, line(error_row.number, error.error))
        for error_row in result.error_rows
        for error in error_row.errors
    ]
    by_row += [
        (invalid.number, line(invalid.number, message, field))
        for invalid in result.invalid_rows
        for field, messages in invalid.error_dict.items()
        for message in messages
    ]
    by_row.sort(key=lambda item: item[0])
    return [str(error.error) for error in result.base_errors] + [text for _number, text in by_row]


def import_counts(result: Result) -> dict[str, int]:
    totals = result.totals
    return {
        "rows": result.total_rows,
        "new": totals[RowResult.IMPORT_TYPE_NEW],
        "updated": totals[RowResult.IMPORT_TYPE_UPDATE],
        "unchanged": totals[RowResult.IMPORT_TYPE_SKIP],
    }


# --- The resource every back-office import uses --------------------------------

MASK = "●●●●"


class MaskedDiff(resources.Diff):
    """The import preview, with personal data masked for those who may not see it."""

    def __init__(self, resource, instance, new):
        self.left = resource.diff_values(instance)
        self.right = []
        self.new = new

    def compare_with(self, resource, instance):
        self.right = resource.diff_values(instance)


def _relabelled(error_dict: dict, labels: dict[str, str]) -> dict:
    relabelled = {}
    for field, messages in error_dict.items():
        relabelled.setdefault(field if field == NON_FIELD_ERRORS else labels.get(field, field), []).extend(messages)
    return relabelled


def _prepared(value):
    if isinstance(value, str):
        return restore_neutralised(value.strip())
    return value


class BackofficeResource(resources.ModelResource):
    """All-or-nothing imports with every problem reported, and safe exports.

    Subclasses set `required_columns` (default: the import id columns).
    Resources accept a `user` keyword (the admin passes the request's user):
    it is the actor of the audit event and decides what may be exported:
    `personal_attributes` are exported, and shown in the import preview,
    only to a user with `personal_data_permission`.
    """

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "DateField": IsoDateWidget,
        "DateTimeField": LocalDateTimeWidget,
        "IntegerField": StrictIntegerWidget,
        "PositiveIntegerField": StrictIntegerWidget,
        "BigIntegerField": StrictIntegerWidget,
        "PositiveBigIntegerField": StrictIntegerWidget,
        "PositiveSmallIntegerField": StrictIntegerWidget,
        "SmallIntegerField": StrictIntegerWidget,
        "BooleanField": StrictBooleanWidget,
    }

    required_columns: tuple[str, ...] = ()
    personal_attributes: frozenset[str] = frozenset()
    personal_data_permission = ""

    class Meta:
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def __init__(self, *, user=None, on_imported: Callable | None = None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        # Called with the resource and the counts once a file is written, inside its transaction.
        self.on_imported = on_imported
        self._duplicates: dict[int, ValidationError] = {}
        self._dry_run = False

    @classmethod
    def get_fk_widget(cls, field):
        return functools.partial(LookupWidget, model=get_related_model(field))

    @classmethod
    def get_error_result_class(cls):
        return ImportProblem

    def get_user_visible_fields(self):
        return [field for field in self.get_import_fields() if not field.readonly]

    # -- the file as a whole --

    def get_required_columns(self) -> tuple[str, ...]:
        return self.required_columns or tuple(self.fields[name].column_name for name in self.get_import_id_fields())

    def known_columns(self) -> list[str]:
        return [field.column_name for field in self.fields.values()]

    # -- the columns' names: Japanese (the active language) in files written, either language or the internal
    # -- name in files read --

    def column_label(self, field) -> str:
        """A column's header as the secretariat reads it: the model field's name in the active language, or the
        resource field's own `label`; the internal name where there is neither."""
        label = getattr(field, "label", None)
        if label:
            return str(label)
        try:
            return str(self._meta.model._meta.get_field(field.attribute).verbose_name)
        except (FieldDoesNotExist, TypeError):
            return field.column_name

    def column_labels(self) -> dict[str, str]:
        """Internal column name -> header, in the active language; a label two columns share stays internal."""
        labels = {field.column_name: self.column_label(field) for field in self.fields.values()}
        taken = list(labels.values())
        return {name: label if taken.count(label) == 1 else name for name, label in labels.items()}

    def header_aliases(self) -> dict[str, str]:
        """Every header a file may use for a column (its internal name, its label in each language) -> the
        internal name."""
        aliases = {}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                for name, label in self.column_labels().items():
                    aliases.setdefault(label, name)
        aliases.update({name: name for name in self.known_columns()})
        return aliases

    def error_labels(self) -> dict[str, str]:
        """What a row's error names a field by: the column's header, or the model field's name."""
        labels = {
            field.name: str(field.verbose_name)
            for field in self._meta.model._meta.get_fields()
            if getattr(field, "verbose_name", None)
        }
        column_labels = self.column_labels()
        labels.update({field.attribute: column_labels[field.column_name] for field in self.fields.values()})
        return labels

    def get_export_headers(self, selected_fields=None):
        labels = self.column_labels()
        return [labels.get(name, name) for name in super().get_export_headers(selected_fields)]

    def template_headers(self) -> list[str]:
        """The headers of an empty file to fill in (the template CSV): the columns an import reads."""
        labels = self.column_labels()
        return [labels[field.column_name] for field in self.get_user_visible_fields()]

    def file_problems(self, dataset) -> list[str]:
        headers = list(dataset.headers or [])
        problems = []
        labels = self.column_labels()
        missing = [labels.get(column, column) for column in self.get_required_columns() if column not in headers]
        if missing:
            problems.append(gettext("The file lacks required columns: %(columns)s.") % {"columns": ", ".join(missing)})
        known = set(self.known_columns())
        unknown = []
        for index, header in enumerate(headers):
            if header == "":
                if any(row[index] not in (None, "") for row in dataset):
                    unknown.append(gettext("(column %(number)d has no name)") % {"number": index + 1})
            elif header not in known:
                unknown.append(header)
        if unknown:
            problems.append(
                gettext("The file has columns this import does not know: %(columns)s. Known columns: %(known)s.")
                % {"columns": ", ".join(unknown), "known": ", ".join(labels.get(c, c) for c in self.known_columns())}
            )
        repeated = sorted({header for header in headers if header and headers.count(header) > 1})
        if repeated:
            problems.append(gettext("Columns appear twice: %(columns)s.") % {"columns": ", ".join(repeated)})
        return problems

    def import_key(self, row) -> str | None:
        """What identifies the record a row writes; None when the row makes a new one."""
        values = [row.get(self.fields[name].column_name) for name in self.get_import_id_fields()]
        if any(value in (None, "") for value in values):
            return None
        return " / ".join(str(value) for value in values)

    def _find_duplicates(self, dataset) -> dict[int, ValidationError]:
        rows_of: dict[str, list[int]] = {}
        for number, values in enumerate(dataset, 1):
            row = {header: _prepared(value) for header, value in zip(dataset.headers, values, strict=False)}
            key = self.import_key(row)
            if key is not None:
                rows_of.setdefault(key, []).append(number)
        field = self.get_import_id_fields()[0]
        duplicates = {}
        for key, numbers in rows_of.items():
            if len(numbers) < 2:
                continue
            for number in numbers:
                others = ", ".join(str(other) for other in numbers if other != number)
                message = gettext("Duplicate key %(key)s: also in row %(rows)s.") % {"key": key, "rows": others}
                duplicates[number] = ValidationError({field: [message]})
        return duplicates

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        # Whatever the caller asks, one bad row rolls back the whole file.
        if dataset.headers:
            aliases = self.header_aliases()
            headers = ["" if header is None else str(header).strip() for header in dataset.headers]
            dataset.headers = [aliases.get(header, header) for header in headers]
        problems = self.file_problems(dataset)
        if problems:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.diff_headers = self.get_diff_headers()
            for problem in problems:
                result.append_base_error(self.get_error_result_class()(ImportFileError(problem)))
            if raise_errors:
                raise ImportFileError(" ".join(problems))
            return result
        self.user = kwargs.get("user", self.user)
        self._dry_run = dry_run
        self._duplicates = self._find_duplicates(dataset)
        result = super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )
        # The preview's columns and a row's errors name each column as the file's header does (the rows' values
        # were read by the internal names, so only now).
        columns = self.column_labels()
        result.diff_headers = [columns.get(header, header) for header in result.diff_headers]
        labels = self.error_labels()
        for invalid in result.invalid_rows:
            invalid.error_dict = _relabelled(invalid.error_dict, labels)
        return result

    def handle_import_error(self, result, error, raise_errors=False):
        if not isinstance(error, ImportFileError):
            logger.warning("import failed", exc_info=error)
        super().handle_import_error(result, error, raise_errors)

    # -- each row --

    def before_import_row(self, row, **kwargs):
        for column, value in row.items():
            row[column] = _prepared(value)
        duplicate = self._duplicates.get(kwargs.get("row_number"))
        if duplicate is not None:
            raise duplicate
        super().before_import_row(row, **kwargs)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if isinstance(field.widget, LocalDateTimeWidget) and field.column_name in row and not field.readonly:
            current = getattr(instance, field.attribute, None)
            if current is not None and field.clean(row, **kwargs) == current.replace(microsecond=0):
                return  # an exported moment comes back without its microseconds: unchanged
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._status_before_import = None if new else getattr(instance, "status", None)
        super().after_init_instance(instance, new, row, **kwargs)

    def status_services(self) -> dict[tuple[str, str], Callable[[Any], object]]:
        """Services that make a status change, by (old status, new status).

        A row that changes the status that way is saved with its old status
        and the service then makes the change (and records it), as it would
        from the admin.
        """
        return {}

    def do_instance_save(self, instance, is_create):
        before = getattr(instance, "_status_before_import", None)
        service = None if is_create else self.status_services().get((before, getattr(instance, "status", None)))
        if service is None:
            instance.save(force_insert=is_create)
            return
        instance.status = before
        instance.save()
        service(instance)

    def clean_exclude(self, instance) -> set[str]:
        """Model fields full_clean() must leave alone for this instance."""
        return set()

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if self._meta.clean_model_instances:
            try:
                instance.full_clean(exclude=set(errors) | self.clean_exclude(instance), validate_unique=validate_unique)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if self._dry_run or import_rejected(result):
            return
        if self.on_imported is not None:
            self.on_imported(self, import_counts(result))

    # -- export --

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and not isinstance(field.widget, widgets.NumberWidget):
            return neutralise_formula(value)
        return value

    def user_has_perm(self, permission: str) -> bool:
        return bool(self.user is not None and self.user.has_perm(permission))

    def may_see_personal_data(self) -> bool:
        return not self.personal_attributes or self.user_has_perm(self.personal_data_permission)

    def get_export_fields(self, selected_fields=None):
        fields = super().get_export_fields(selected_fields)
        if self.may_see_personal_data():
            return fields
        return [field for field in fields if field.attribute not in self.personal_attributes]

    @classmethod
    def get_diff_class(cls):
        return MaskedDiff

    def diff_values(self, instance) -> list:
        fields = self.get_import_fields()
        if instance is None:
            return ["" for _field in fields]
        masked = not self.may_see_personal_data()
        values = []
        for field in fields:
            value = field.export(instance)
            if masked and field.attribute in self.personal_attributes and value not in (None, ""):
                value = MASK
            values.append(value)
        return values
