"""Number formatting for the portal: grouped digits whatever the locale's NUMBER_GROUPING says."""

from django import template

register = template.Library()


@register.filter
def grouped(value) -> str:
    """1234567 → "1,234,567"."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
