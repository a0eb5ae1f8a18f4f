"""Members: new registrations, first visits, active members, visits per member per month, the days between
visits as a distribution ("shopping once a week", "back within 60 days"), dormant members (no visit for N
days) and those who came back.

A visit is a day a member made a purchase at the place: the programme as a whole, a store, or a store
category. The day's visits are distinct members, and so are the first visits of a month (the month's active
members); with several stores chosen (a merchant's), each store's figures are added up.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.bands import DORMANCY_THRESHOLDS, FIRST_VISIT, GAP_BANDS, RETURN_WITHIN, WEEKLY, gap_band_label
from analytics.charts import Chart, Series
from analytics.models import Dormancy, Registration, Visit, VisitDay
from analytics.selectors.filters import DAY, MONTH, ReportFilter, bucket_label, places
from common.privacy import MIN_GROUP, masked


@dataclass
class MembersRow:
    day: datetime.date
    label: str
    registrations: object = 0
    new_customers: object = 0
    active: object = 0
    visits: object = 0
    visits_per_member: object = None
    returned: object = 0
    dormant: object = 0
    purchases_yen: object = 0
    members: dict = field(default_factory=dict)


@dataclass
class GapLine:
    band: int
    label: str
    visits: object
    share: object
    members: int


@dataclass
class MembersReport:
    filter: ReportFilter
    threshold: int
    rows: list[MembersRow]
    total: MembersRow
    gaps: list[GapLine]
    weekly_share: object
    returning_share: object
    activity_chart: Chart
    dormant_chart: Chart
    gaps_chart: Chart
    notes: list[str]


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _band(gap: int | None) -> int:
    if gap is None:
        return FIRST_VISIT
    return next(end for end, _label in GAP_BANDS if gap <= end)


def _from_log(report: ReportFilter, where: list[str]) -> bool:
    """A place and members' attributes together are read from the visits themselves (a store's are few)."""
    return report.by_members and where != [""]


def _visits(report: ReportFilter, where: list[str]) -> list[dict]:
    """(day, band, first of the month) → visits and yen, in the period."""
    if _from_log(report, where):
        rows = (
            Visit.objects.filter(report.programme_q(), report.attributes_q(), place__in=where)
            .filter(day__gte=report.first, day__lte=report.last)
            .values("day", "gap_days", "first_in_month")
            .annotate(visits=Count("*"), amount_yen=Sum("amount_yen"))
            .order_by()
        )
        return [{**row, "gap_band": _band(row.pop("gap_days"))} for row in rows]
    rows = VisitDay.objects.filter(
        report.programme_q(),
        grain="M" if report.by_members else "P",
        place__in=where,
        day__gte=report.first,
        day__lte=report.last,
    )
    if report.by_members:
        rows = rows.filter(report.attributes_q())
    return list(
        rows.values("day", "gap_band", "first_in_month")
        .annotate(visits=Sum("visits"), amount_yen=Sum("amount_yen"))
        .order_by()
    )


def _dormancy(
    report: ReportFilter, where: list[str], threshold: int, today: datetime.date
) -> tuple[int, dict[datetime.date, list[int]]]:
    """The members dormant before the period, and each day's (became dormant, came back) up to today."""
    if _from_log(report, where):
        return _dormancy_from_log(report, where, threshold, min(report.last, today))
    rows = Dormancy.objects.filter(
        report.programme_q(), threshold=threshold, grain="M" if report.by_members else "P", place__in=where
    )
    if report.by_members:
        rows = rows.filter(report.attributes_q())
    before = rows.filter(day__lt=report.first).aggregate(became=Sum("became"), returned=Sum("returned"))
    opening = (before["became"] or 0) - (before["returned"] or 0)
    days = {
        row["day"]: [row["became"], row["returned"]]
        for row in rows.filter(day__gte=report.first, day__lte=report.last)
        .values("day")
        .annotate(became=Sum("became"), returned=Sum("returned"))
        .order_by()
    }
    return opening, days


def _dormancy_from_log(report: ReportFilter, where: list[str], threshold: int, last: datetime.date):
    """The same events, from the visits of the place(s) with the attributes: after a visit followed by more
    than `threshold` days without one, the member became dormant on the day the silence reached it and came
    back on the next visit."""
    gap = datetime.timedelta(days=threshold)
    visits = Visit.objects.filter(report.programme_q(), report.attributes_q(), place__in=where)
    silent = Q(next_day__isnull=True) | Q(next_day__gt=F("day") + gap)
    opening, days = 0, {}
    became = visits.filter(silent, day__lte=last - gap).values("day").annotate(n=Count("*")).order_by()
    for row in became:
        when = row["day"] + gap
        if when < report.first:
            opening += row["n"]
        else:
            days.setdefault(when, [0, 0])[0] += row["n"]
    returned = (
        visits.filter(next_day__gt=F("day") + gap, next_day__lte=last)
        .values("next_day")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in returned:
        if row["next_day"] < report.first:
            opening -= row["n"]
        else:
            days.setdefault(row["next_day"], [0, 0])[1] += row["n"]
    return opening, days


def _registrations(report: ReportFilter) -> dict[datetime.date, int]:
    rows = Registration.objects.filter(report.programme_q(), day__gte=report.first, day__lte=report.last)
    if report.by_members:
        rows = rows.filter(report.attributes_q())
    found: dict[datetime.date, int] = {}
    for row in rows.values("day").annotate(n=Sum("registrations")).order_by():
        bucket = report.bucket_of(row["day"])
        found[bucket] = found.get(bucket, 0) + row["n"]
    return found


def members_report(report: ReportFilter, *, threshold: int = 90, today: datetime.date | None = None) -> MembersReport:
    """The members report of the period; `threshold`: the days without a visit after which a member counts
    as dormant (analytics.bands.DORMANCY_THRESHOLDS)."""
    if threshold not in DORMANCY_THRESHOLDS:
        raise ValueError(f"threshold must be one of {DORMANCY_THRESHOLDS}")
    today = today or timezone.localdate()
    buckets = report.buckets(today)
    where = places(report)
    visits = _visits(report, where)
    opening, dormancy = _dormancy(report, where, threshold, today)
    registrations = _registrations(report)

    figures: dict[datetime.date, dict] = {bucket: _empty() for bucket in buckets}
    daily: dict[tuple, int] = {}  # (day, band) → visits: the fewest members behind a band's figure
    for row in visits:
        line = figures.setdefault(report.bucket_of(row["day"]), _empty())
        line["visits"] += row["visits"]
        line["yen"] += row["amount_yen"] or 0
        if row["gap_band"] == FIRST_VISIT:
            line["new"] += row["visits"]
        if report.by == DAY or row["first_in_month"]:
            line["active"] += row["visits"]
        daily[(row["day"], row["gap_band"])] = daily.get((row["day"], row["gap_band"]), 0) + row["visits"]
    dormant = opening
    rows = []
    for bucket in buckets:
        line = figures[bucket]
        end = bucket if report.by == DAY else min(_month_end(bucket), report.last)
        for day, (became, returned) in dormancy.items():
            if bucket <= day <= end:
                dormant += became - returned
                line["returned"] += returned
        line["dormant"] = dormant
        line["registrations"] = registrations.get(bucket, 0)
        rows.append(_row(bucket, bucket_label(bucket, report.by), line, report.by))

    total = _row(report.first, _("Total"), _total(rows, figures), report.by)
    gaps, weekly, returning = _gaps(report, where, daily)
    notes = []
    if len(where) > 1:
        notes.append(_("With several stores, each store's members are counted at each store."))
    if report.by_stores:
        notes.append(_("Registrations are the programme's: a member registers with it, not with a store."))
    return MembersReport(
        filter=report,
        threshold=threshold,
        rows=rows,
        total=total,
        gaps=gaps,
        weekly_share=weekly,
        returning_share=returning,
        activity_chart=_activity_chart(rows, report.by),
        dormant_chart=_dormant_chart(rows, threshold),
        gaps_chart=_gaps_chart(gaps),
        notes=notes,
    )


def _empty() -> dict:
    return {"visits": 0, "yen": 0, "new": 0, "active": 0, "returned": 0, "dormant": 0, "registrations": 0}


def _month_end(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def _row(day: datetime.date, label: str, line: dict, by: str) -> MembersRow:
    active = line["active"]
    per_member = None
    if by == MONTH and active:
        per_member = (Decimal(line["visits"]) / active).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return MembersRow(
        day=day,
        label=label,
        registrations=masked(line["registrations"], line["registrations"]),
        new_customers=masked(line["new"], line["new"]),
        active=masked(active, active),
        visits=masked(line["visits"], active),
        visits_per_member=masked(per_member, active),
        returned=masked(line["returned"], line["returned"]),
        dormant=masked(line["dormant"], line["dormant"]),
        purchases_yen=masked(line["yen"], active),
        members={
            "registrations": line["registrations"],
            "new_customers": line["new"],
            "active": active,
            "returned": line["returned"],
            "dormant": line["dormant"],
        },
    )


def _total(rows: list[MembersRow], figures: dict) -> dict:
    """The period's sums; its active members are the month's (or day's) largest, what the period surely has."""
    line = _empty()
    for figure in figures.values():
        for name in ("visits", "yen", "new", "returned", "registrations"):
            line[name] += figure[name]
        line["active"] = max(line["active"], figure["active"])
    line["dormant"] = rows[-1].members["dormant"] if rows else 0
    return line


def _band_range(end: int) -> tuple[int, int]:
    ends = [band for band, _label in GAP_BANDS]
    index = ends.index(end)
    return (ends[index - 1] + 1 if index else 1, end)


def _gaps(report: ReportFilter, where: list[str], daily: dict[tuple, int]) -> tuple[list[GapLine], object, object]:
    """The days between visits (first visits apart) in bands, with the share of each, of those within a week
    and of those within 60 days.

    The members behind a band are at least those of its busiest day; where that is under five but the band
    has five visits or more, they are counted from the visits themselves."""
    counts: dict[int, int] = {}
    fewest: dict[int, int] = {}
    for (_day, band), visits in daily.items():
        if band == FIRST_VISIT:
            continue
        counts[band] = counts.get(band, 0) + visits
        fewest[band] = max(fewest.get(band, 0), visits)
    for band, visits in counts.items():
        if fewest[band] < MIN_GROUP <= visits:
            fewest[band] = _members_with_gaps(report, where, *_band_range(band))
    total = sum(counts.values())
    everyone = max(fewest.values(), default=0)
    if everyone < MIN_GROUP <= total:
        everyone = _members_with_gaps(report, where, 1, GAP_BANDS[-1][0] * 100)
    lines = [
        GapLine(
            band=end,
            label=gap_band_label(end),
            visits=masked(counts.get(end, 0), fewest.get(end, 0)),
            share=masked(_percent(counts.get(end, 0), total), fewest.get(end, 0)),
            members=fewest.get(end, 0),
        )
        for end, _label in GAP_BANDS
    ]
    weekly = masked(_percent(sum(n for band, n in counts.items() if band <= WEEKLY), total), everyone)
    returning = masked(_percent(sum(n for band, n in counts.items() if band <= RETURN_WITHIN), total), everyone)
    return lines, weekly, returning


def _members_with_gaps(report: ReportFilter, where: list[str], low: int, high: int) -> int:
    """The members with a visit in the period that came `low` to `high` days after their previous one."""
    visits = Visit.objects.filter(
        report.programme_q(), place__in=where, day__gte=report.first, day__lte=report.last, gap_days__gte=low
    ).filter(gap_days__lte=high)
    if report.by_members:
        visits = visits.filter(report.attributes_q())
    return visits.aggregate(n=Count("member_id", distinct=True))["n"]


def _activity_chart(rows: list[MembersRow], by: str) -> Chart:
    return Chart(
        id="members-activity-chart",
        title=_("Active members, first visits and returns"),
        labels=[row.label for row in rows],
        series=[
            Series(_("active members") if by == MONTH else _("members who visited"), [row.active for row in rows]),
            Series(_("first visits"), [row.new_customers for row in rows]),
            Series(_("came back"), [row.returned for row in rows]),
        ],
        unit=_("people"),
    )


def _dormant_chart(rows: list[MembersRow], threshold: int) -> Chart:
    return Chart(
        id="members-dormant-chart",
        title=_("Dormant members (no visit for %(days)s days)") % {"days": threshold},
        labels=[row.label for row in rows],
        series=[Series(_("dormant members"), [row.dormant for row in rows], kind="line")],
        unit=_("people"),
    )


def _gaps_chart(gaps: list[GapLine]) -> Chart:
    return Chart(
        id="members-gaps-chart",
        title=_("Days between visits"),
        labels=[line.label for line in gaps],
        series=[Series(_("visits"), [line.visits for line in gaps])],
        unit=_("visits"),
    )
