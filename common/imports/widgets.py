"""Widgets that turn file cells into values strictly, with messages in the user's language."""

from __future__ import annotations

import datetime
import logging
import re
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext
from import_export import widgets

logger = logging.getLogger(__name__)


# --- Widgets with messages a user can act on ---------------------------------


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key found by a code; an unknown code is a row error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                gettext("No %(model)s with %(field)s “%(value)s”.")
                % {
                    "model": self.model._meta.verbose_name,
                    "field": self.model._meta.get_field(self.field).verbose_name,
                    "value": value,
                }
            ) from None


class IsoDateWidget(widgets.DateWidget):
    """Dates as YYYY-MM-DD (YYYY/MM/DD, as Excel in Japan writes them, is also read)."""

    _PATTERN = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        match = self._PATTERN.match(str(value).strip())
        try:
            if match is None:
                raise ValueError
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValueError(gettext("Enter a date as YYYY-MM-DD.")) from None


class LocalDateTimeWidget(widgets.DateTimeWidget):
    """Date and time in Japan time, YYYY-MM-DD HH:MM[:SS]; an explicit offset is respected."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d %H:%M:%S", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, datetime.datetime):
            moment = value
        else:
            try:
                moment = datetime.datetime.fromisoformat(str(value).strip().replace("/", "-"))
            except ValueError:
                raise ValueError(gettext("Enter a date and time as YYYY-MM-DD HH:MM:SS.")) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class StrictIntegerWidget(widgets.IntegerWidget):
    """Whole numbers only: "1.5" or "abc" is an error, not 1 or a crash."""

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(gettext("Enter a whole number."))
        return int(number)


class StrictBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false or yes/no; anything else is an error rather than a silent "no"."""

    _TRUE = {"1", "true", "yes"}
    _FALSE = {"0", "false", "no"}

    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text == "":
            return None
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise ValueError(gettext("Enter 1 (yes) or 0 (no)."))
