"""A report's figure in a portal page: "1,234", "5名未満" (the five-member rule) or "—" (analytics.tables)."""

from django import template

from analytics.tables import figure_text

register = template.Library()


@register.filter
def figure(value, unit: str = "") -> str:
    return figure_text(value, unit)
