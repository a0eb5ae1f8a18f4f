"""Circulation: where the points issued at one store (or category) were spent, as a matrix, and the share
spent at another store than the issuing one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils.translation import gettext as _

from analytics.charts import Heatmap
from analytics.selectors.filters import DAY, ReportFilter, selected_store_ids
from common.fixedsql import placeholders
from common.privacy import SMALL_GROUP, is_small_group, masked
from stores.models import Store

STORE, CATEGORY = "store", "category"
ISSUED, SPENT = "issued", "spent"
# The matrix drawn shows the stores with the most points; the table lists every pair.
CHART_SIZE = 15
SECRETARIAT = None  # points given with no issuing store (adjustments by the secretariat)


@dataclass(slots=True)
class Pair:
    """Points issued at one place and spent at another (or the same). Built for every pair of stores, so the
    figures as shown are worked out when read."""

    issued_at: str
    spent_at: str
    exact: int
    issued_total: int  # everything the issuing place's points were spent on
    members: int
    elsewhere: bool

    @property
    def hidden(self) -> bool:
        return is_small_group(self.members)

    @property
    def points(self):
        return SMALL_GROUP if self.hidden else self.exact

    @property
    def share(self):
        """Of the issuing place's points spent, the share spent here: percent, SMALL_GROUP or None."""
        return SMALL_GROUP if self.hidden else _percent(self.exact, self.issued_total)


@dataclass
class Origin:
    """One issuing store or category: its points spent, and the share spent elsewhere."""

    name: str
    points: object
    elsewhere: object
    share_elsewhere: object
    members: int


@dataclass
class CirculationReport:
    filter: ReportFilter
    level: str
    side: str
    pairs: list[Pair]
    origins: list[Origin]
    total: object  # points, or SMALL_GROUP
    total_elsewhere: object
    share_elsewhere: object
    chart: Heatmap


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _names(level: str) -> tuple[dict, dict]:
    """Each store's name and its place at the level (itself, or its category) with the place's name."""
    categories = dict(Store.Category.choices)
    stores = {pk: (name, category) for pk, name, category in Store.objects.values_list("pk", "name", "category")}
    secretariat = _("Secretariat (no store)")
    if level == CATEGORY:
        place = {pk: category for pk, (_name, category) in stores.items()}
        names = {category: str(categories.get(category, category)) for category in set(place.values())}
    else:
        place = {pk: pk for pk in stores}
        names = {pk: name for pk, (name, _category) in stores.items()}
    place[SECRETARIAT] = SECRETARIAT
    names[SECRETARIAT] = secretariat
    return place, names


def circulation_report(report: ReportFilter, *, level: str = STORE, side: str = ISSUED) -> CirculationReport:
    """Points spent in the period by issuing and spending store (or category). With stores chosen, the
    points issued there (`side` "issued") or spent there ("spent"). The members behind a pair are those of
    its largest day or month: a pair shown is about five members or more."""
    where = ["period = %s", "day >= %s", "day <= %s"]
    params: list = ["D" if report.by == DAY else "M", report.first, report.last]
    if report.programme_ids is not None:
        where.append(f"programme_id IN ({placeholders(sorted(report.programme_ids) or [0])})")
        params += sorted(report.programme_ids) or [0]
    stores = selected_store_ids(report)
    if stores is not None:
        where.append(
            f"{'issued_at_id' if side == ISSUED else 'spent_at_id'} IN ({placeholders(sorted(stores) or [0])})"
        )
        params += sorted(stores) or [0]
    # Tens of thousands of pairs of stores: read as plain rows, past the ORM's per-row conversions.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT issued_at_id, spent_at_id, CAST(SUM(points) AS bigint), MAX(members) FROM analytics_circulation "
            f"WHERE {' AND '.join(where)} GROUP BY issued_at_id, spent_at_id",
            params,
        )
        pairs = cursor.fetchall()
    place, names = _names(level)
    cells: dict[tuple, list[int]] = {}
    for issued_at, spent_at, points, members in pairs:
        key = (place.get(issued_at), place.get(spent_at))
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = [0, 0, 0]  # points, members, points at another store than the issuing one
        cell[0] += points
        if members > cell[1]:
            cell[1] = members
        if issued_at != spent_at:
            cell[2] += points

    by_origin: dict[object, list[int]] = {}
    for (origin, _spent), (points, members, elsewhere) in cells.items():
        line = by_origin.setdefault(origin, [0, 0, 0])
        line[0] += points
        line[1] = max(line[1], members)
        line[2] += elsewhere
    origins = sorted(
        (
            Origin(
                name=names.get(origin, str(origin)),
                points=masked(points, members),
                elsewhere=masked(elsewhere, members),
                share_elsewhere=masked(_percent(elsewhere, points), members),
                members=members,
            )
            for origin, (points, members, elsewhere) in by_origin.items()
        ),
        key=lambda origin: (origin.points is SMALL_GROUP, -(origin.points or 0), origin.name),
    )
    # Largest first; the hidden ones last, in no order that would tell their size.
    table = sorted(
        (
            Pair(
                names.get(origin, str(origin)),
                names.get(spent, str(spent)),
                points,
                by_origin[origin][0],
                members,
                bool(elsewhere),
            )
            for (origin, spent), (points, members, elsewhere) in cells.items()
        ),
        key=lambda pair: (pair.hidden, -pair.exact if not pair.hidden else 0, pair.issued_at, pair.spent_at),
    )
    total = sum(cell[0] for cell in cells.values())
    total_elsewhere = sum(cell[2] for cell in cells.values())
    everyone = max((cell[1] for cell in cells.values()), default=0)
    return CirculationReport(
        filter=report,
        level=level,
        side=side,
        pairs=table,
        origins=origins,
        total=masked(total, everyone),
        total_elsewhere=masked(total_elsewhere, everyone),
        share_elsewhere=masked(_percent(total_elsewhere, total), everyone),
        chart=_heatmap(cells, names, level),
    )


def _heatmap(cells: dict[tuple, list[int]], names: dict, level: str) -> Heatmap:
    """The matrix of the places that issued and took the most points; the rest under "others"."""
    issued: dict = {}
    spent: dict = {}
    for (origin, destination), (points, _members, _elsewhere) in cells.items():
        issued[origin] = issued.get(origin, 0) + points
        spent[destination] = spent.get(destination, 0) + points
    rows = [key for key, _points in sorted(issued.items(), key=lambda item: -item[1])[:CHART_SIZE]]
    columns = [key for key, _points in sorted(spent.items(), key=lambda item: -item[1])[:CHART_SIZE]]
    others = object()
    more_rows, more_columns = len(issued) > len(rows), len(spent) > len(columns)
    grid: dict[tuple, list[int]] = {}
    for (origin, destination), (points, members, _elsewhere) in cells.items():
        key = (origin if origin in rows else others, destination if destination in columns else others)
        cell = grid.setdefault(key, [0, 0])
        cell[0] += points
        cell[1] = max(cell[1], members)
    row_keys = rows + ([others] if more_rows else [])
    column_keys = columns + ([others] if more_columns else [])

    def label(key) -> str:
        return _("others") if key is others else names.get(key, str(key))

    def value(origin, destination):
        cell = grid.get((origin, destination))
        if cell is None:
            return None
        return masked(cell[0], cell[1])

    by = _("category") if level == CATEGORY else _("store")
    return Heatmap(
        id="circulation-chart",
        title=_("Where the points were spent (by %(level)s)") % {"level": by},
        rows=[label(key) for key in row_keys],
        columns=[label(key) for key in column_keys],
        cells=[[value(origin, destination) for destination in column_keys] for origin in row_keys],
        unit=_("pt"),
        row_title=_("issued at ↓"),
        column_title=_("spent at →"),
    )
