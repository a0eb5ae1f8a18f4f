"""A merchant's own stores (the portal's 分析): visits, new and returning members and the repeat rate; where
the points issued at the stores were spent, and where the points spent there came from.

Everything is read from the summary tables (`Visit` for the stores' visits, `Circulation` for the points).
`store_visits` and `store_flows` give exact figures; `stores_report` gives them as a merchant may see them:
the five-member rule (common.privacy) on every figure, with the complement hidden too where a hidden figure
could be worked out by subtraction (a total less the lines shown). Other merchants' stores appear only
grouped by category, a category on its own only where the programme has at least `MIN_OTHER_STORES` of
other merchants' stores in it (else under "other categories", which never holds a single store either), so
that no group stands for one other store.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.charts import Chart, Series
from analytics.selectors.filters import DAY, ReportFilter, bucket_label
from analytics.sql import date_param, month_start
from common.fixedsql import placeholders
from common.privacy import SMALL_GROUP, is_small_group, masked
from points.models import Participation
from stores.models import Store

# A category of other merchants' stores is shown on its own only when it has this many stores in the
# merchant's programmes; fewer, and its figures join "other stores".
MIN_OTHER_STORES = 2
OWN, CATEGORY, OTHERS, SECRETARIAT = "own", "category", "others", "secretariat"


# --- exact figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFigures:
    """One day or month (or the whole period) at the stores: members are distinct across the stores."""

    visits: int  # days a member bought at a store, counted per store
    members: int  # members who bought
    new: int  # ... whose first visit to the stores ever was in it
    repeaters: int  # ... who came on two days or more (counting the days before it)
    purchases_yen: int

    @property
    def returning(self) -> int:
        return self.members - self.new


def _visits_sql(*, places: int, programmes: int, by: str) -> str:
    """Per day or month ("B") and for the period as one ("W", its first day as the bucket): members, visits,
    new members, repeaters and yen at the places, in one reading of their visits. Parameters: the
    programmes, the places, the last day, the first day four times."""
    bucket = "day" if by == DAY else month_start("day")
    return f"""
        WITH v AS (
            SELECT member_id, day, amount_yen FROM analytics_visit
            WHERE programme_id IN ({placeholders([0] * programmes)})
              AND place IN ({placeholders([0] * places)}) AND day <= {date_param()}
        ),
        seen AS (
            SELECT member_id, MIN(day) AS first_day FROM v GROUP BY member_id HAVING MAX(day) >= {date_param()}
        ),
        per AS (
            SELECT 'B' AS part, {bucket} AS bucket, member_id, COUNT(*) AS visits, COUNT(DISTINCT day) AS days,
                   SUM(amount_yen) AS yen
            FROM v WHERE day >= {date_param()} GROUP BY {bucket}, member_id
            UNION ALL
            SELECT 'W', {date_param()}, member_id, COUNT(*), COUNT(DISTINCT day), SUM(amount_yen)
            FROM v WHERE day >= {date_param()} GROUP BY member_id
        )
        SELECT per.part, per.bucket, COUNT(*), SUM(per.visits),
               SUM(CASE WHEN seen.first_day >= per.bucket THEN 1 ELSE 0 END),
               SUM(CASE WHEN seen.first_day < per.bucket OR per.days > 1 THEN 1 ELSE 0 END),
               SUM(per.yen)
        FROM per JOIN seen ON seen.member_id = per.member_id
        GROUP BY per.part, per.bucket
    """


def store_visits(report: ReportFilter) -> tuple[dict[datetime.date, VisitFigures], VisitFigures]:
    """The visits to the report's stores in each day or month of the period, and in the period as a whole.
    A member's visit is a day with a purchase at a store (two stores the same day are two visits); new
    members first bought at any of the stores in it, repeaters bought there on two days or more up to its
    end; members are distinct across the stores."""
    store_ids = sorted(report.store_ids or ())
    programme_ids = sorted(report.programme_ids or ())
    empty = VisitFigures(0, 0, 0, 0, 0)
    if not store_ids or not programme_ids:
        return {}, empty
    places = [f"s:{pk}" for pk in store_ids]
    params = [*programme_ids, *places, report.last, *[report.first] * 4]
    found: dict[datetime.date, VisitFigures] = {}
    total = empty
    with connection.cursor() as cursor:
        cursor.execute(_visits_sql(places=len(places), programmes=len(programme_ids), by=report.by), params)
        for part, day, members, visits, new, repeaters, yen in cursor.fetchall():
            figures = VisitFigures(int(visits or 0), members, int(new or 0), int(repeaters or 0), int(yen or 0))
            if part == "W":
                total = figures
            else:
                found[_as_date(day)] = figures
    return found, total


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


@dataclass(frozen=True)
class Flow:
    """Points that moved between one of the report's stores and a group of stores (or the secretariat)."""

    kind: str  # OWN (one of the merchant's stores), CATEGORY (other stores of it), OTHERS, SECRETARIAT
    key: object  # the store's id, the category, or None
    name: str
    points: int
    members: int  # the most members behind one of its days or months: surely at least these


@dataclass(frozen=True)
class Flows:
    spent_where: list[Flow]  # points issued at the report's stores, by where they were spent
    came_from: list[Flow]  # points spent at the report's stores, by where they were issued


def _other_store_groups(programme_ids, own_ids) -> tuple[dict[int, str], set[str]]:
    """Each store's category, and the categories with enough other merchants' stores to be shown."""
    in_programmes = set(Participation.objects.filter(programme_id__in=programme_ids).values_list("store_id", flat=True))
    categories = dict(Store.objects.filter(pk__in=in_programmes).values_list("pk", "category"))
    counts: dict[str, int] = {}
    for pk, category in categories.items():
        if pk not in own_ids:
            counts[category] = counts.get(category, 0) + 1
    shown = {category for category, n in counts.items() if n >= MIN_OTHER_STORES}
    # "Other categories" must not stand for one store either: while it has fewer, the smallest category
    # shown joins it.
    folded = sum(n for category, n in counts.items() if category not in shown)
    while 0 < folded < MIN_OTHER_STORES and shown:
        smallest = min(shown, key=lambda category: (counts[category], category))
        shown.discard(smallest)
        folded += counts[smallest]
    return categories, shown


def store_flows(report: ReportFilter, *, own_store_ids: frozenset[int]) -> Flows:
    """Points spent in the period that were issued at the report's stores, by where they were spent, and
    those spent at the report's stores, by where they were issued. The merchant's own stores (`own_store_ids`)
    are named; other stores are grouped by category."""
    store_ids = sorted(report.store_ids or ())
    programme_ids = sorted(report.programme_ids or ())
    if not store_ids or not programme_ids:
        return Flows([], [])
    categories, shown = _other_store_groups(programme_ids, own_store_ids)
    names = dict(Store.objects.filter(pk__in=own_store_ids).values_list("pk", "name"))
    category_names = dict(Store.Category.choices)

    def group(store_id) -> tuple[str, object]:
        if store_id is None:
            return SECRETARIAT, None
        if store_id in own_store_ids:
            return OWN, store_id
        category = categories.get(store_id)
        return (CATEGORY, category) if category in shown else (OTHERS, None)

    def label(kind: str, key) -> str:
        if kind == OWN:
            return names.get(key, str(key))
        if kind == CATEGORY:
            return _("Other stores: %(category)s") % {"category": category_names.get(key, key)}
        if kind == OTHERS:
            return _("Other stores: other categories")
        return _("Secretariat (no store)")

    stores = placeholders(store_ids)
    sql = (
        "SELECT issued_at_id, spent_at_id, CAST(SUM(points) AS bigint), MAX(members) FROM analytics_circulation "
        f"WHERE period = %s AND day >= %s AND day <= %s AND programme_id IN ({placeholders(programme_ids)}) "
        f"AND (issued_at_id IN ({stores}) OR spent_at_id IN ({stores})) GROUP BY issued_at_id, spent_at_id"
    )
    params = ["D" if report.by == DAY else "M", report.first, report.last, *programme_ids, *store_ids, *store_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    chosen = set(store_ids)
    spent: dict[tuple, list[int]] = {}
    came: dict[tuple, list[int]] = {}
    for issued_at, spent_at, points, members in pairs:
        if issued_at in chosen:
            _add(spent, group(spent_at), points, members)
        if spent_at in chosen:
            _add(came, group(issued_at), points, members)
    return Flows(_flows(spent, label), _flows(came, label))


def _add(groups: dict, key: tuple, points: int, members: int) -> None:
    line = groups.setdefault(key, [0, 0])
    line[0] += points
    line[1] = max(line[1], members)


_ORDER = {OWN: 0, CATEGORY: 1, OTHERS: 2, SECRETARIAT: 3}


def _flows(groups: dict, label) -> list[Flow]:
    flows = [Flow(kind, key, label(kind, key), points, members) for (kind, key), (points, members) in groups.items()]
    return sorted(flows, key=lambda flow: (_ORDER[flow.kind], flow.name))


# --- as a merchant sees them ------------------------------------------------------------------------------


@dataclass
class VisitsRow:
    day: datetime.date | None
    label: str
    visits: object
    members: object
    new: object
    returning: object
    repeat_rate: object
    purchases_yen: object


@dataclass
class FlowLine:
    name: str
    kind: str
    points: object
    share: object

    @property
    def label(self) -> str:  # the tables' footer reads a total's label
        return self.name


@dataclass
class StoresReport:
    filter: ReportFilter
    rows: list[VisitsRow]
    total: VisitsRow
    spent_where: list[FlowLine]
    spent_where_total: FlowLine
    came_from: list[FlowLine]
    came_from_total: FlowLine
    charts: list = field(default_factory=list)


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _visits_row(day, label: str, figures: VisitFigures) -> VisitsRow:
    members = figures.members
    # New and returning add up to the members shown: if either is hidden, so is the other.
    split_hidden = is_small_group(figures.new) or is_small_group(figures.returning)
    # A share tells its part and the rest: hidden if either is about one to four members.
    rate_hidden = is_small_group(figures.repeaters) or is_small_group(members - figures.repeaters)
    return VisitsRow(
        day=day,
        label=label,
        visits=masked(figures.visits, members),
        members=masked(members, members),
        new=SMALL_GROUP if split_hidden else masked(figures.new, members),
        returning=SMALL_GROUP if split_hidden else masked(figures.returning, members),
        repeat_rate=SMALL_GROUP if rate_hidden else masked(_percent(figures.repeaters, members), members),
        purchases_yen=masked(figures.purchases_yen, members),
    )


def _flow_lines(flows: list[Flow]) -> tuple[list[FlowLine], FlowLine]:
    """The lines and their total as shown. Where exactly one line is hidden and the total is shown, the
    smallest line shown is hidden too, so that the hidden one cannot be worked out from the total."""
    total = sum(flow.points for flow in flows)
    everyone = max((flow.members for flow in flows), default=0)
    hidden = {index for index, flow in enumerate(flows) if is_small_group(flow.members)}
    total_shown = not is_small_group(everyone)
    if len(hidden) == 1 and total_shown:
        rest = [index for index in range(len(flows)) if index not in hidden]
        if rest:
            hidden.add(min(rest, key=lambda index: (flows[index].points, index)))
    lines = [
        FlowLine(
            name=flow.name,
            kind=flow.kind,
            points=SMALL_GROUP if index in hidden else flow.points,
            share=SMALL_GROUP if index in hidden else _percent(flow.points, total),
        )
        for index, flow in enumerate(flows)
    ]
    shown_total = total if total_shown else SMALL_GROUP
    return lines, FlowLine(_("Total"), "", shown_total, masked(_percent(total, total), everyone))


def stores_report(
    report: ReportFilter, *, own_store_ids: frozenset[int], today: datetime.date | None = None
) -> StoresReport:
    """The report of `report.store_ids` (some of the merchant's `own_store_ids`) as the merchant sees it."""
    today = today or timezone.localdate()
    by_bucket, whole = store_visits(report)
    empty = VisitFigures(0, 0, 0, 0, 0)
    rows = [
        _visits_row(bucket, bucket_label(bucket, report.by), by_bucket.get(bucket, empty))
        for bucket in report.buckets(today)
    ]
    total = _visits_row(None, _("Total"), whole)
    flows = store_flows(report, own_store_ids=own_store_ids)
    spent_where, spent_total = _flow_lines(flows.spent_where)
    came_from, came_total = _flow_lines(flows.came_from)
    result = StoresReport(
        filter=report,
        rows=rows,
        total=total,
        spent_where=spent_where,
        spent_where_total=spent_total,
        came_from=came_from,
        came_from_total=came_total,
    )
    result.charts = [
        _members_chart(rows),
        _repeat_chart(rows),
        _flow_chart("store-spent-where-chart", _("Where the points issued at your stores were spent"), spent_where),
        _flow_chart("store-came-from-chart", _("Where the points spent at your stores came from"), came_from),
    ]
    return result


def _members_chart(rows: list[VisitsRow]) -> Chart:
    return Chart(
        id="store-members-chart",
        title=_("Members who visited: new and returning"),
        labels=[row.label for row in rows],
        series=[
            Series(_("members who visited"), [row.members for row in rows]),
            Series(_("new members"), [row.new for row in rows]),
            Series(_("returning members"), [row.returning for row in rows]),
        ],
        unit=_("people"),
    )


def _repeat_chart(rows: list[VisitsRow]) -> Chart:
    return Chart(
        id="store-repeat-chart",
        title=_("Repeat rate"),
        labels=[row.label for row in rows],
        series=[Series(_("repeat rate (%)"), [row.repeat_rate for row in rows], kind="line")],
        unit="%",
    )


def _flow_chart(chart_id: str, title: str, lines: list[FlowLine]) -> Chart:
    return Chart(
        id=chart_id,
        title=title,
        labels=[line.name for line in lines],
        series=[Series(_("points"), [line.points for line in lines])],
        unit=_("pt"),
    )
