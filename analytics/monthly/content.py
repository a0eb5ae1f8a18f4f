"""What a monthly report holds: the four reports of the analytics app for the month's days, as sections of
charts, headline figures and tables of plain values (the tables' Japanese headers, 5名未満 where a figure is
about one to four members). The PDF and the CSV are both written from this one value."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from analytics import tables
from analytics.charts import Chart, Heatmap, Series
from analytics.selectors import (
    CATEGORY,
    DAY,
    ISSUED,
    SPENT,
    STORE,
    ReportFilter,
    circulation_report,
    members_report,
    points_report,
    promotions_report,
)
from common.formatting import date_text
from common.privacy import SMALL_GROUP, is_small_group
from points.models import Lot, Programme
from stores.models import Merchant, Store

DORMANCY_DAYS = 90


@dataclass
class Table:
    caption: str
    rows: list[list]  # the header first, then plain values (numbers, text, "5名未満")


@dataclass
class Section:
    title: str
    charts: list[Chart | Heatmap] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class MonthlyContent:
    title: str
    owner: str
    programme: str
    period: str
    first_day: datetime.date
    last_day: datetime.date
    sections: list[Section]


def _values(table: tables.ReportTable) -> list[list]:
    """The table's header and rows as the CSV holds them, its total last."""
    data = list(table.data)
    if table.total is not None:
        data.append(table.total)
    return [list(row) for row in type(table)(data).as_values()]


def merchant_stores(*, merchant: Merchant, programme: Programme) -> frozenset[int]:
    """The merchant's stores that take part in the programme: what its report is about."""
    return frozenset(Store.objects.filter(merchant=merchant, programmes=programme).values_list("pk", flat=True))


def monthly_content(
    *, programme: Programme, first_day: datetime.date, last_day: datetime.date, merchant: Merchant | None = None
) -> MonthlyContent:
    """The month of the programme, or of the merchant's own stores in it."""
    stores = None if merchant is None else merchant_stores(merchant=merchant, programme=programme)
    report = ReportFilter(
        start=first_day, end=last_day, programme_ids=frozenset({programme.pk}), store_ids=stores, by=DAY
    )
    sections = [
        _points(report, stores),
        *_circulation(report, merchant),
        _members(report),
        _promotions(report, merchant),
    ]
    owner = merchant.name if merchant is not None else programme.issuer_name
    return MonthlyContent(
        title=_("Monthly report"),
        owner=owner,
        programme=programme.name,
        period=f"{date_text(first_day)}〜{date_text(last_day)}",
        first_day=first_day,
        last_day=last_day,
        sections=sections,
    )


def _text(value, unit: str = "") -> str:
    return tables.figure_text(value, unit)


def _points(report: ReportFilter, stores: frozenset[int] | None) -> Section:
    result = points_report(report, today=report.last)
    total = result.total
    charts = [result.flows_chart]
    if stores is not None and _few_holders(stores):
        # A merchant's outstanding points held by one to four members would tell of those members.
        for row in [*result.rows, total]:
            row.outstanding = row.liability_yen = SMALL_GROUP
    elif result.outstanding_chart is not None:
        charts.append(result.outstanding_chart)
    last = result.rows[-1] if result.rows else total
    return Section(
        title=capfirst(_("points issued, spent and outstanding")),
        charts=charts,
        summary=[
            (_("points issued"), _text(total.issued, _(" pt"))),
            (_("points spent"), _text(total.spent, _(" pt"))),
            (_("points expired"), _text(total.expired, _(" pt"))),
            (_("Outstanding points at the end"), _text(last.outstanding, _(" pt"))),
            (_("Liability at the payback rate"), _text(last.liability_yen, _(" yen"))),
            (_("Breakage rate over the period"), _text(total.breakage, "%")),
        ],
        tables=[Table(_("Points by day"), _values(tables.PointsTable(result.rows, total=total)))],
        notes=result.notes,
    )


def _few_holders(stores: frozenset[int]) -> bool:
    holders = Lot.objects.filter(store_id__in=stores, remaining__gt=0).values("account_id").distinct().count()
    return is_small_group(holders)


def _circulation(report: ReportFilter, merchant: Merchant | None) -> list[Section]:
    if merchant is None:
        sides = [(CATEGORY, ISSUED, capfirst(_("circulation between stores")))]
    else:
        sides = [
            (STORE, ISSUED, _("Where the points issued at your stores were spent")),
            (STORE, SPENT, _("Where the points spent at your stores came from")),
        ]
    sections = []
    for level, side, title in sides:
        result = circulation_report(report, level=level, side=side)
        sections.append(
            Section(
                title=title,
                charts=[result.chart],
                summary=[
                    (_("Points spent"), _text(result.total, _(" pt"))),
                    (_("Spent at another store than the issuing one"), _text(result.total_elsewhere, _(" pt"))),
                    (_("Share spent at another store"), _text(result.share_elsewhere, "%")),
                ],
                tables=[
                    Table(_("By issuing store"), _values(tables.CirculationOriginsTable(result.origins))),
                    Table(_("By pair of stores"), _values(tables.CirculationPairsTable(result.pairs))),
                ],
            )
        )
    return sections


def _members(report: ReportFilter) -> Section:
    result = members_report(report, threshold=DORMANCY_DAYS, today=report.last)
    total = result.total
    return Section(
        title=capfirst(_("members and visits")),
        charts=[result.activity_chart, result.dormant_chart, result.gaps_chart],
        summary=[
            (_("new registrations"), _text(total.registrations)),
            (_("first visits"), _text(total.new_customers)),
            (_("visits"), _text(total.visits)),
            (_("came back after the silence"), _text(total.returned)),
            (_("dormant members at the end"), _text(total.dormant)),
            (_("Visits within a week of the previous one"), _text(result.weekly_share, "%")),
            (_("Visits within 60 days of the previous one"), _text(result.returning_share, "%")),
        ],
        tables=[
            Table(_("Members and visits by day"), _values(tables.MembersTable(result.rows, total=total))),
            Table(_("Days between visits"), _values(tables.GapsTable(result.gaps))),
        ],
        notes=result.notes,
    )


def _promotions(report: ReportFilter, merchant: Merchant | None) -> Section:
    result = promotions_report(report, today=report.last)
    lines = result.lines
    chart = result.chart
    if merchant is not None:
        # Only the promotions the merchant's stores took part in: another company's campaigns are not its news.
        lines = [line for line in lines if line.members]
        chart = Chart(
            id=chart.id,
            title=chart.title,
            labels=[line.name[:14] for line in lines],
            series=[
                Series(_("before"), [line.per_member_before_yen for line in lines]),
                Series(_("during"), [line.per_member_during_yen for line in lines]),
            ],
            unit=chart.unit,
        )
    return Section(
        title=capfirst(_("campaigns, coupons and rallies")),
        charts=[chart] if lines else [],
        tables=[Table(_("Promotions"), _values(tables.PromotionsTable(lines)))],
    )
