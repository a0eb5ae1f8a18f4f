"""Model fields that keep personal data encrypted at rest."""

from __future__ import annotations

import datetime

from django.db import models

from common import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token under its own key.

    Empty values are stored as the empty string (nothing to hide), so a
    withdrawn member's erased fields are plainly empty.
    """

    def __init__(self, *args, key_name: str, **kwargs):
        self.key_name = key_name
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["key_name"] = self.key_name
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return self.to_python_from_clear(crypto.decrypt(self.key_name, value))

    def to_python_from_clear(self, clear: str):
        return clear

    def clear_text(self, value) -> str:
        return "" if value in (None, "") else str(value)

    def get_prep_value(self, value):
        clear = self.clear_text(value)
        if not clear:
            return ""
        return crypto.encrypt(self.key_name, clear)


class EncryptedDateField(EncryptedTextField):
    """A date kept encrypted; used for the full birth date."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value))

    def to_python_from_clear(self, clear: str):
        return datetime.date.fromisoformat(clear)

    def clear_text(self, value) -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, datetime.date):
            return value.isoformat()
        return datetime.date.fromisoformat(str(value)).isoformat()

    def formfield(self, **kwargs):
        from django import forms

        return forms.DateField(required=not self.blank, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return None
        return self.to_python_from_clear(crypto.decrypt(self.key_name, value))
