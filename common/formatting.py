"""Numbers and dates as every screen and document shows them: grouped digits with their unit ("3,144円",
"254 pt") and one date style (2026/12/03, 2026/12/03 09:05; the same patterns as loyalty/formats for
templates). The PDFs' accounting style for negative amounts (△) is common/pdf.py's, on top of these."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

DATE_PATTERN = "%Y/%m/%d"
DATETIME_PATTERN = "%Y/%m/%d %H:%M"


def grouped(value, *, signed: bool = False) -> str:
    """1234 → "1,234"; with `signed`, "+1,234" and "-20". Anything not a number → ""."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    return f"{number:+,}" if signed else f"{number:,}"


def points_text(value, *, signed: bool = False) -> str:
    """1234 → "1,234 pt"."""
    number = grouped(value, signed=signed)
    return number and _("%(points)s pt") % {"points": number}


def yen_text(value) -> str:
    """3000 → "3,000円" (in English "3,000 yen")."""
    number = grouped(value)
    return number and _("%(amount)s yen") % {"amount": number}


def date_text(value: datetime.date | None) -> str:
    """2026/12/03; a moment is shown as its Tokyo date."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime(DATE_PATTERN)


def datetime_text(value: datetime.datetime | None) -> str:
    """2026/12/03 09:05, Tokyo time."""
    if value is None:
        return ""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime(DATETIME_PATTERN)
