"""Points issued, spent, expired and outstanding, by day or month; the outstanding points as the programme's
liability in yen, and the breakage rate."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.charts import Chart, Series
from analytics.models import LotFlow, PointsFlow
from analytics.selectors.filters import DAY, ReportFilter, bucket_label, selected_store_ids
from billing.models import BillingSettings
from common.privacy import SMALL_GROUP, masked
from points.models import Entry

K = Entry.Kind
# What each column adds up, and its sign as shown (points leaving a member are shown as positive numbers).
GROUPS = {
    "issued": ((K.EARN, K.BONUS, K.PURCHASE), 1),
    "spent": ((K.SPEND, K.EXCHANGE, K.DONATION, K.REFUND), -1),
    "expired": ((K.EXPIRE,), -1),
    "voided": ((K.VOID,), 1),
    "other": ((K.ADJUST, K.TRANSFER, K.IMPORT), 1),
}
FULL_RATE_BP = 10_000


@dataclass
class PointsRow:
    day: datetime.date
    label: str
    issued: object = 0
    spent: object = 0
    expired: object = 0
    voided: object = 0
    other: object = 0
    net: object = 0
    purchases_yen: object = 0
    outstanding: int | None = None
    liability_yen: int | None = None
    breakage: object = None  # Decimal percent, SMALL_GROUP or None
    members: dict = field(default_factory=dict)  # column → the fewest members the figure is surely about


@dataclass
class PointsReport:
    filter: ReportFilter
    rows: list[PointsRow]
    total: PointsRow
    flows_chart: Chart
    outstanding_chart: Chart | None
    notes: list[str]


def grain_of(report: ReportFilter) -> str:
    return {(False, False): "A", (True, False): "S", (False, True): "M", (True, True): "F"}[
        (report.by_stores, report.by_members)
    ]


def _flows(report: ReportFilter) -> list[dict]:
    rows = PointsFlow.objects.filter(
        report.programme_q(),
        period="D" if report.by == DAY else "M",
        grain=grain_of(report),
        day__gte=report.first,
        day__lte=report.last,
    )
    stores = selected_store_ids(report)
    if stores is not None:
        rows = rows.filter(store_id__in=stores)
    if report.by_members:
        rows = rows.filter(report.attributes_q())
    return list(
        rows.values("day", "kind")
        .annotate(points=Sum("points"), amount_yen=Sum("amount_yen"), members=Max("members"))
        .order_by()
    )


def payback_rates(programme_ids) -> dict[int, int]:
    """Each programme's payback rate for a spent point (basis points; 1.00 yen without billing settings)."""
    settings = BillingSettings.objects.all()
    if programme_ids is not None:
        settings = settings.filter(programme_id__in=programme_ids)
    return dict(settings.values_list("programme_id", "payback_rate_bp"))


def _outstanding(report: ReportFilter, buckets: list[datetime.date]) -> dict[datetime.date, tuple[int, int]]:
    """Outstanding points and their yen at the end of each bucket, by the issuing stores chosen."""
    lots = LotFlow.objects.filter(report.programme_q())
    stores = selected_store_ids(report)
    if stores is not None:
        lots = lots.filter(store_id__in=stores)
    rates = payback_rates(report.programme_ids)
    net = Sum("issued") - Sum("used")
    opening: dict[int, int] = {
        row["programme_id"]: row["net"]
        for row in lots.filter(day__lt=report.first).values("programme_id").annotate(net=net).order_by()
    }
    moves: dict[tuple, int] = {}
    in_period = lots.filter(day__gte=report.first, day__lte=report.last)
    for row in in_period.values("day", "programme_id").annotate(net=net).order_by():
        key = (report.bucket_of(row["day"]), row["programme_id"])
        moves[key] = moves.get(key, 0) + row["net"]
    programmes = set(opening) | {programme for _day, programme in moves}
    running = dict(opening)
    found = {}
    for bucket in buckets:
        for programme in programmes:
            running[programme] = running.get(programme, 0) + moves.get((bucket, programme), 0)
        points = sum(running.values())
        yen = sum(held * rates.get(programme, FULL_RATE_BP) // FULL_RATE_BP for programme, held in running.items())
        found[bucket] = (points, yen)
    return found


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _fill(row: PointsRow, flows: list[dict]) -> None:
    """The row's figures from the summary rows of its bucket, each hidden if about one to four members."""
    exact = {name: 0 for name in GROUPS}
    members = {name: 0 for name in GROUPS}
    purchases = purchases_members = 0
    for flow in flows:
        for name, (kinds, sign) in GROUPS.items():
            if flow["kind"] in kinds:
                exact[name] += sign * flow["points"]
                members[name] = max(members[name], flow["members"])
        if flow["kind"] == K.EARN:
            purchases += flow["amount_yen"]
            purchases_members = max(purchases_members, flow["members"])
    everyone = max(members.values(), default=0)
    for name in GROUPS:
        setattr(row, name, masked(exact[name], members[name]))
    row.net = masked(sum(exact[name] * GROUPS[name][1] for name in GROUPS), everyone)
    row.purchases_yen = masked(purchases, purchases_members)
    row.members = {**members, "net": everyone, "purchases_yen": purchases_members}
    if row.spent is SMALL_GROUP or row.expired is SMALL_GROUP:
        row.breakage = SMALL_GROUP
    else:
        row.breakage = _percent(exact["expired"], exact["spent"] + exact["expired"])


def points_report(report: ReportFilter, *, today: datetime.date | None = None) -> PointsReport:
    """The points moved per day or month of the period, with the outstanding points at each end (by the
    issuing stores chosen; not by members' attributes, which the liability knows nothing of)."""
    today = today or timezone.localdate()
    buckets = report.buckets(today)
    flows = _flows(report)
    by_bucket: dict[datetime.date, list[dict]] = {}
    for flow in flows:
        by_bucket.setdefault(flow["day"], []).append(flow)
    outstanding = None if report.by_members else _outstanding(report, buckets)
    rows = []
    for bucket in buckets:
        row = PointsRow(day=bucket, label=bucket_label(bucket, report.by))
        _fill(row, by_bucket.get(bucket, []))
        if outstanding is not None:
            row.outstanding, row.liability_yen = outstanding[bucket]
        rows.append(row)
    total = PointsRow(day=report.first, label=_("Total"))
    _fill(total, _merged(flows))
    if rows and outstanding is not None:
        total.outstanding, total.liability_yen = rows[-1].outstanding, rows[-1].liability_yen
    notes = []
    if report.by_members:
        notes.append(
            _(
                "Outstanding points are the programme's liability by issuing store: they are not shown for "
                "members' attributes."
            )
        )
    return PointsReport(
        filter=report,
        rows=rows,
        total=total,
        flows_chart=_flows_chart(rows),
        outstanding_chart=None if outstanding is None else _outstanding_chart(rows),
        notes=notes,
    )


def _merged(flows: list[dict]) -> list[dict]:
    """The period's flows as one bucket: points added up, the members the largest of any bucket's."""
    merged: dict[str, dict] = {}
    for flow in flows:
        line = merged.setdefault(flow["kind"], {"kind": flow["kind"], "points": 0, "amount_yen": 0, "members": 0})
        line["points"] += flow["points"]
        line["amount_yen"] += flow["amount_yen"]
        line["members"] = max(line["members"], flow["members"])
    return list(merged.values())


def _flows_chart(rows: list[PointsRow]) -> Chart:
    return Chart(
        id="points-flows-chart",
        title=_("Points issued, spent and expired"),
        labels=[row.label for row in rows],
        series=[
            Series(_("points issued"), [row.issued for row in rows]),
            Series(_("points spent"), [row.spent for row in rows]),
            Series(_("points expired"), [row.expired for row in rows]),
        ],
        unit=_("pt"),
    )


def _outstanding_chart(rows: list[PointsRow]) -> Chart:
    return Chart(
        id="points-outstanding-chart",
        title=_("Outstanding points (liability)"),
        labels=[row.label for row in rows],
        series=[
            Series(_("outstanding points"), [row.outstanding for row in rows], kind="line"),
            Series(_("liability (yen)"), [row.liability_yen for row in rows], kind="line"),
        ],
        unit=_("pt / yen"),
    )
