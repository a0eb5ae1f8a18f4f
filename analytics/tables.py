"""The reports' tables (django-tables2): sortable by any column, paged, and exported to CSV with the same
Japanese headers. A figure hidden by the five-member rule reads "5名未満" on the page and in the CSV alike,
and sorts before every number; the totals are the tables' footers, and the CSV's last line."""

from __future__ import annotations

import datetime
from decimal import Decimal

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from common.formatting import date_text, grouped
from common.privacy import SMALL_GROUP


def figure_text(value, unit: str = "") -> str:
    """A figure as the page shows it: 1,234 (with its unit), "5名未満", or a dash for nothing to show."""
    if value is SMALL_GROUP:
        return str(SMALL_GROUP)
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"{value}{unit}"
    return f"{grouped(value)}{unit}"


def figure_value(value):
    """A figure as the CSV holds it: the plain number, "5名未満", or empty."""
    if value is SMALL_GROUP:
        return str(SMALL_GROUP)
    return "" if value is None else value


class FigureColumn(tables.Column):
    """A number, right-aligned; the footer is the same attribute of the table's `total`."""

    def __init__(self, *args, unit: str = "", **kwargs):
        self.unit = unit
        attrs = {"td": {"class": "figure"}, "th": {"class": "figure"}, "tf": {"class": "figure"}}
        kwargs.setdefault("attrs", attrs)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return figure_text(value, self.unit)

    def value(self, value):
        return figure_value(value)

    def render_footer(self, bound_column, table):
        total = getattr(table, "total", None)
        if total is None:
            return ""
        return figure_text(getattr(total, bound_column.accessor, None), self.unit)


class LabelColumn(tables.Column):
    def render_footer(self, bound_column, table):
        total = getattr(table, "total", None)
        return getattr(total, "label", "") if total is not None else ""


class ReportTable(tables.Table):
    """A report's table, with its totals (or None) as the footer."""

    def __init__(self, data, *, total=None, **kwargs):
        self.total = total
        super().__init__(data, **kwargs)

    class Meta:
        attrs = {"class": "analytics-table"}
        template_name = "django_tables2/table.html"
        per_page = 31


class PointsTable(ReportTable):
    label = LabelColumn(verbose_name=_("period"), order_by=("day",))
    issued = FigureColumn(verbose_name=_("points issued"))
    spent = FigureColumn(verbose_name=_("points spent"))
    expired = FigureColumn(verbose_name=_("points expired"))
    voided = FigureColumn(verbose_name=_("voided or refunded"))
    other = FigureColumn(verbose_name=_("adjusted or moved"))
    net = FigureColumn(verbose_name=_("net change"))
    purchases_yen = FigureColumn(verbose_name=_("purchases (yen)"))
    outstanding = FigureColumn(verbose_name=_("outstanding points at the end"))
    liability_yen = FigureColumn(verbose_name=_("liability (yen)"))
    breakage = FigureColumn(verbose_name=_("breakage rate (%)"))


class CirculationPairsTable(ReportTable):
    issued_at = tables.Column(verbose_name=_("issuing store"))
    spent_at = tables.Column(verbose_name=_("spending store"))
    points = FigureColumn(verbose_name=_("points spent"))
    share = FigureColumn(verbose_name=_("share of the points issued there (%)"))


class CirculationOriginsTable(ReportTable):
    name = tables.Column(verbose_name=_("issuing store"))
    points = FigureColumn(verbose_name=_("points spent"))
    elsewhere = FigureColumn(verbose_name=_("spent at another store"))
    share_elsewhere = FigureColumn(verbose_name=_("share spent at another store (%)"))


class MembersTable(ReportTable):
    label = LabelColumn(verbose_name=_("period"), order_by=("day",))
    registrations = FigureColumn(verbose_name=_("new registrations"))
    new_customers = FigureColumn(verbose_name=_("first visits"))
    active = FigureColumn(verbose_name=_("active members"))
    visits = FigureColumn(verbose_name=_("visits"))
    visits_per_member = FigureColumn(verbose_name=_("visits per member"))
    purchases_yen = FigureColumn(verbose_name=_("purchases (yen)"))
    returned = FigureColumn(verbose_name=_("came back after the silence"))
    dormant = FigureColumn(verbose_name=_("dormant members at the end"))


class GapsTable(ReportTable):
    label = tables.Column(verbose_name=_("days since the previous visit"), order_by=("band",))
    visits = FigureColumn(verbose_name=_("visits"))
    share = FigureColumn(verbose_name=_("share (%)"))

    class Meta(ReportTable.Meta):
        per_page = 20


class DateColumn(tables.Column):
    def render(self, value):
        return date_text(value)

    def value(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else value


class PromotionsTable(ReportTable):
    kind_label = tables.Column(verbose_name=_("kind"))
    name = tables.Column(verbose_name=_("promotion"))
    first_day = DateColumn(verbose_name=_("from"))
    last_day = DateColumn(verbose_name=_("to"))
    participants = FigureColumn(verbose_name=_("participants"))
    store_points = FigureColumn(verbose_name=_("bonus points funded by stores"))
    secretariat_points = FigureColumn(verbose_name=_("bonus points funded by the secretariat"))
    discount_yen = FigureColumn(verbose_name=_("discounts honoured (yen)"))
    purchases_before_yen = FigureColumn(verbose_name=_("participants' purchases before (yen)"))
    purchases_during_yen = FigureColumn(verbose_name=_("participants' purchases during (yen)"))
    per_member_before_yen = FigureColumn(verbose_name=_("per participant before (yen)"))
    per_member_during_yen = FigureColumn(verbose_name=_("per participant during (yen)"))
    change = FigureColumn(verbose_name=_("change (%)"))


class StoreVisitsTable(ReportTable):
    """A merchant's stores' visits (the portal)."""

    label = LabelColumn(verbose_name=_("period"), order_by=("day",))
    members = FigureColumn(verbose_name=_("members who visited"))
    new = FigureColumn(verbose_name=_("new members"))
    returning = FigureColumn(verbose_name=_("returning members"))
    repeat_rate = FigureColumn(verbose_name=_("repeat rate (%)"))
    visits = FigureColumn(verbose_name=_("visits"))
    purchases_yen = FigureColumn(verbose_name=_("purchases (yen)"))


class SpentWhereTable(ReportTable):
    name = LabelColumn(verbose_name=_("spent at"))
    points = FigureColumn(verbose_name=_("points spent"))
    share = FigureColumn(verbose_name=_("share (%)"))


class CameFromTable(ReportTable):
    name = LabelColumn(verbose_name=_("where issued"))
    points = FigureColumn(verbose_name=_("points spent"))
    share = FigureColumn(verbose_name=_("share (%)"))
