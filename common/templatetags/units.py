"""Amounts in templates with grouped digits and their unit: "1,234 pt", "3,000円" (common.formatting)."""

from django import template

from common.formatting import grouped, points_text, yen_text

register = template.Library()


@register.filter
def pt(value, signed: str = "") -> str:
    """1234 → "1,234 pt"; `|pt:"signed"` shows the sign of a change: "+1,234 pt", "-20 pt"."""
    return points_text(value, signed=bool(signed))


@register.filter
def yen(value) -> str:
    """3000 → "3,000円" (in English "3,000 yen")."""
    return yen_text(value)


@register.filter(name="grouped")
def grouped_filter(value) -> str:
    """1234567 → "1,234,567", whatever the locale's NUMBER_GROUPING says."""
    return grouped(value)
