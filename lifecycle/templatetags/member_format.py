"""Amounts on the member page with grouped digits and their unit: "1,234 pt", "3,000円"."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def _grouped(value, *, signed: bool = False) -> str | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return f"{number:+,}" if signed else f"{number:,}"


@register.filter
def pt(value, signed: str = "") -> str:
    """1234 → "1,234 pt"; `|pt:"signed"` shows the sign of a change: "+1,234 pt", "-20 pt"."""
    grouped = _grouped(value, signed=bool(signed))
    return "" if grouped is None else _("%(points)s pt") % {"points": grouped}


@register.filter
def yen(value) -> str:
    """3000 → "3,000円" (in English "3,000 yen")."""
    grouped = _grouped(value)
    return "" if grouped is None else _("%(amount)s yen") % {"amount": grouped}
