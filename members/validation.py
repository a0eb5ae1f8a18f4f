"""What a member's data must look like, wherever it comes from: the admin's form and the CSV import both
clean each value here, so a value the form refuses is refused by the import, with the same message.

Each function takes the value as typed (full-width digits and letters from a Japanese keyboard are made
ASCII) and returns it in the form kept, or raises ValidationError."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.utils.translation import gettext_lazy as _

PHONE_RE = re.compile(r"^[\d-]+$")
POSTAL_CODE_RE = re.compile(r"^(\d{3})-?(\d{4})$")
KANA_RE = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\u309b\u309c\s]+$")

# The longest value each text field takes, as typed (the form's max_length, checked by the import too).
MAX_LENGTH = {"name": 100, "name_kana": 100, "phone": 20, "address": 300}


def nfkc(value: str) -> str:
    # Full-width digits, letters and hyphens typed on a Japanese keyboard become ASCII.
    return unicodedata.normalize("NFKC", value or "").strip()


def name_clean(value: str) -> str:
    return " ".join(nfkc(value).split())


def name_kana_clean(value: str) -> str:
    kana = " ".join(nfkc(value).split())
    if kana and not KANA_RE.match(kana):
        raise ValidationError(_("Enter the name in hiragana or katakana."))
    return kana


def phone_clean(value: str) -> str:
    phone = re.sub(r"[‐－ー―]", "-", nfkc(value).replace(" ", ""))
    if not phone:
        return ""
    digits = phone.replace("-", "")
    if not PHONE_RE.match(phone) or not 10 <= len(digits) <= 11:
        raise ValidationError(_("Enter a phone number of 10 or 11 digits, with or without hyphens."))
    return phone


def email_clean(value: str) -> str:
    email = nfkc(value)
    if email:
        validate_email(email)
    return email


def address_clean(value: str) -> str:
    return (value or "").strip()


def postal_code_clean(value: str) -> str:
    postal_code = nfkc(value).replace("−", "-")
    if not postal_code:
        return ""
    match = POSTAL_CODE_RE.match(postal_code)
    if not match:
        raise ValidationError(_("A postal code is 7 digits (123-4567)."))
    return f"{match[1]}-{match[2]}"


# The cleaning of each field that has one, by field name.
CLEAN = {
    "name": name_clean,
    "name_kana": name_kana_clean,
    "phone": phone_clean,
    "email": email_clean,
    "address": address_clean,
    "postal_code": postal_code_clean,
}


def field_clean(name: str, value):
    """One field's value as the form keeps it: its length as typed, then its cleaning (for the import, which
    has no form field to check the length)."""
    if value in (None, ""):
        return value
    if name in MAX_LENGTH:
        MaxLengthValidator(MAX_LENGTH[name])(value.strip())
    clean = CLEAN.get(name)
    return clean(value) if clean else value


def registration_errors(*, terms_version: str, name: str | None) -> dict[str, ValidationError]:
    """What registering a person lacks, by field: the terms version they agreed to, and their name.

    `name` is None where the name is not given at all (a form without it, for staff who may not see personal
    data, or a file without the column): the member is registered without one."""
    errors = {}
    if not terms_version:
        errors["terms_version"] = ValidationError(_("Enter the terms version the member agreed to."))
    if name is not None and not name:
        errors["name"] = ValidationError(_("Enter the member's name to register them."))
    return errors
