"""Figures in templates as the reports show them: 1,234, "5名未満" for a group of fewer than five members, or a
dash for nothing to show (analytics.tables.figure_text)."""

from django import template

from analytics.tables import figure_text

register = template.Library()


@register.filter
def figure(value) -> str:
    return figure_text(value)
