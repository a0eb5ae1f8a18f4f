"""The summaries reconciled with the ledger, run by `manage.py verify_ledger` (registered in apps.py).

Over the days the summaries hold as final (`SummaryState.first_day` to `final_through`), by day and
programme, each table against a reading of the ledger: points moved by kind (and the entries), the points
into and out of lots, the points circulated between stores, the visits (members and purchases per day) and
the registrations; then the tables against each other: every grain of the points moved adds up to the same,
each month to its days, the visits per day to the visits. `deep` also checks each visit's previous visit.
A mismatch names its day and programme; `manage.py refresh_analytics --from DAY` rebuilds from there.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from analytics.models import SummaryState
from analytics.services import analytics_reconciled
from analytics.sql import local_day, moment, month_start, registrations_joined
from points.verification import SAMPLE, Problem, Rule
from stores.selectors import local_midnight

LEDGER_POINTS = """
    SELECT {day} AS day, a.programme_id, e.kind, SUM(e.points) AS points, COUNT(*) AS entries
    FROM points_entry e JOIN points_account a ON a.id = e.account_id
    WHERE e.recorded_at >= %s AND e.recorded_at < %s
    GROUP BY {day}, a.programme_id, e.kind
"""

SUMMARY_POINTS = """
    SELECT day, programme_id, kind, SUM(points) AS points, SUM(entries) AS entries
    FROM analytics_pointsflow WHERE period = 'D' AND grain = 'A' AND day BETWEEN %s AND %s
    GROUP BY day, programme_id, kind
"""

GRAINS = """
    SELECT period, day, programme_id, kind,
           SUM(CASE WHEN grain = 'A' THEN points ELSE 0 END) AS a,
           SUM(CASE WHEN grain = 'S' THEN points ELSE 0 END) AS s,
           SUM(CASE WHEN grain = 'M' THEN points ELSE 0 END) AS m,
           SUM(CASE WHEN grain = 'F' THEN points ELSE 0 END) AS f,
           SUM(CASE WHEN grain = 'A' THEN amount_yen ELSE 0 END) AS ya,
           SUM(CASE WHEN grain = 'F' THEN amount_yen ELSE 0 END) AS yf
    FROM analytics_pointsflow WHERE day BETWEEN %s AND %s
    GROUP BY period, day, programme_id, kind
"""

MONTHS = """
    SELECT {month} AS day, programme_id, kind, SUM(CASE WHEN period = 'D' THEN points ELSE 0 END) AS days,
           SUM(CASE WHEN period = 'M' THEN points ELSE 0 END) AS month
    FROM analytics_pointsflow WHERE grain = 'A' AND day BETWEEN %s AND %s
    GROUP BY {month}, programme_id, kind
"""

LEDGER_LOTS = """
    SELECT day, programme_id, SUM(issued) AS issued, SUM(used) AS used FROM (
        SELECT {day} AS day, a.programme_id, l.points AS issued, 0 AS used
        FROM points_entry e JOIN points_lot l ON l.entry_id = e.id JOIN points_account a ON a.id = l.account_id
        WHERE e.recorded_at >= %s AND e.recorded_at < %s
        UNION ALL
        SELECT {day}, a.programme_id, 0, u.points
        FROM points_entry e JOIN points_lotuse u ON u.entry_id = e.id JOIN points_account a ON a.id = e.account_id
        WHERE e.recorded_at >= %s AND e.recorded_at < %s
    ) x GROUP BY day, programme_id
"""

SUMMARY_LOTS = """
    SELECT day, programme_id, SUM(issued) AS issued, SUM(used) AS used
    FROM analytics_lotflow WHERE day BETWEEN %s AND %s GROUP BY day, programme_id
"""

LEDGER_CIRCULATION = """
    SELECT day, programme_id, SUM(points) AS points FROM (
        SELECT {day} AS day, a.programme_id, u.points
        FROM points_entry e JOIN points_account a ON a.id = e.account_id JOIN points_lotuse u ON u.entry_id = e.id
        WHERE e.kind = 'spend' AND e.recorded_at >= %s AND e.recorded_at < %s
        UNION ALL
        SELECT {day}, a.programme_id, -l.points
        FROM points_entry e JOIN points_account a ON a.id = e.account_id JOIN points_lot l ON l.entry_id = e.id
        WHERE e.kind = 'void' AND e.points > 0 AND e.recorded_at >= %s AND e.recorded_at < %s
    ) x GROUP BY day, programme_id
"""

SUMMARY_CIRCULATION = """
    SELECT day, programme_id, SUM(points) AS points
    FROM analytics_circulation WHERE period = 'D' AND day BETWEEN %s AND %s GROUP BY day, programme_id
"""

LEDGER_VISITS = """
    SELECT {day} AS day, a.programme_id, COUNT(DISTINCT a.member_id) AS visits, COUNT(*) AS receipts,
           COALESCE(SUM(e.amount_yen), 0) AS amount_yen
    FROM points_entry e JOIN points_account a ON a.id = e.account_id
    WHERE e.kind = 'earn' AND e.recorded_at >= %s AND e.recorded_at < %s
    GROUP BY {day}, a.programme_id
"""

SUMMARY_VISITS = """
    SELECT day, programme_id, COUNT(*) AS visits, SUM(receipts) AS receipts, SUM(amount_yen) AS amount_yen
    FROM analytics_visit WHERE place = '' AND day BETWEEN %s AND %s
    GROUP BY day, programme_id
"""

VISIT_DAYS = """
    SELECT v.day, v.programme_id, v.place, v.visits, d.p, d.m
    FROM (SELECT day, programme_id, place, COUNT(*) AS visits FROM analytics_visit
          WHERE day BETWEEN %s AND %s GROUP BY day, programme_id, place) v
    LEFT JOIN (SELECT day, programme_id, place,
                      SUM(CASE WHEN grain = 'P' THEN visits ELSE 0 END) AS p,
                      SUM(CASE WHEN grain = 'M' THEN visits ELSE 0 END) AS m
               FROM analytics_visitday WHERE day BETWEEN %s AND %s GROUP BY day, programme_id, place) d
      ON d.day = v.day AND d.programme_id = v.programme_id AND d.place = v.place
    WHERE d.p IS NULL OR d.p <> v.visits OR (v.place = '' AND d.m <> v.visits)
"""

LEDGER_REGISTRATIONS = """
    SELECT {day} AS day, j.programme_id, COUNT(*) AS registrations FROM ({joined}) j GROUP BY {day}, j.programme_id
"""

SUMMARY_REGISTRATIONS = """
    SELECT day, programme_id, SUM(registrations) AS registrations
    FROM analytics_registration WHERE day BETWEEN %s AND %s GROUP BY day, programme_id
"""

VISIT_LINKS = """
    SELECT v.id, v.day, v.programme_id, v.previous_day, w.previous_day AS expected
    FROM analytics_visit v JOIN (
        SELECT id, LAG(day) OVER (PARTITION BY programme_id, place, member_id ORDER BY day) AS previous_day,
               LEAD(day) OVER (PARTITION BY programme_id, place, member_id ORDER BY day) AS next_day
        FROM analytics_visit) w ON w.id = v.id
    WHERE v.day BETWEEN %s AND %s
      AND (v.previous_day <> w.previous_day OR (v.previous_day IS NULL) <> (w.previous_day IS NULL)
           OR v.next_day <> w.next_day OR (v.next_day IS NULL) <> (w.next_day IS NULL))
"""


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _day(value) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)[:10]


def _keyed(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(_day(row[key]) if key == "day" else row[key] for key in keys): row for row in rows}


def _compare(rule: Rule, ledger: list[dict], summary: list[dict], keys: tuple[str, ...], figures: tuple[str, ...]):
    """The keys whose figures differ between the two readings, or are in one only."""
    by_ledger, by_summary = _keyed(ledger, keys), _keyed(summary, keys)
    broken = []
    for key in sorted(set(by_ledger) | set(by_summary), key=str):
        theirs, ours = by_ledger.get(key, {}), by_summary.get(key, {})
        if any(int(theirs.get(name) or 0) != int(ours.get(name) or 0) for name in figures):
            broken.append({"id": " ".join(str(part) for part in key), "ledger": theirs, "summary": ours})
    return Problem(rule, len(broken), broken[:SAMPLE]) if broken else None


def _found(rule: Rule, rows: list[dict], keys: tuple[str, ...]):
    if not rows:
        return None
    sample = [{"id": " ".join(_day(row[key]) if key == "day" else str(row[key]) for key in keys)} for row in rows]
    return Problem(rule, len(rows), sample[:SAMPLE])


RULES = {
    "points": Rule("analytics_points_match_ledger", "the points moved per day, programme and kind match the ledger"),
    "grains": Rule(
        "analytics_points_grains_agree",
        "the points moved add up to the same by programme, by store, by member attributes and by both",
    ),
    "months": Rule("analytics_points_months_agree", "each month's points moved are the sum of its days"),
    "lots": Rule("analytics_lots_match_ledger", "the points into and out of lots per day match the ledger"),
    "circulation": Rule(
        "analytics_circulation_matches_ledger", "the points spent per day, by issuing store, match the ledger"
    ),
    "visits": Rule(
        "analytics_visits_match_ledger", "the visits (members with a purchase) and purchases per day match the ledger"
    ),
    "visit_days": Rule("analytics_visit_days_agree", "the visits per day and place add up to the visits"),
    "registrations": Rule("analytics_registrations_match", "the registrations per day and programme match the members"),
    "links": Rule("analytics_visit_links", "each visit names the member's previous and next visit to the same place"),
}


def summary_problems(*, deep: bool = False, full: bool = False) -> tuple[list[Problem], list[str]]:
    """The reconciliation verify_ledger runs: (problems, notes). The final days after the last one found
    right (`SummaryState.reconciled_through`), or all of them with `full`; the months from the first of the
    first day's month. A passing reading records the last day it read."""
    state = SummaryState.objects.order_by("pk").first()
    if state is None or state.first_day is None or state.final_through is None:
        return [], ["no summaries final yet (manage.py refresh_analytics)"]
    first, last = state.first_day, state.final_through
    if not full and state.reconciled_through is not None and state.reconciled_through >= first:
        first = state.reconciled_through + datetime.timedelta(days=1)
    read = f"read from {first}" if first <= last else "all reconciled before"
    notes = [f"summaries final from {state.first_day} to {last}; {read}"]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    if last < yesterday:
        notes.append(f"summaries are {(yesterday - last).days} day(s) behind: is the nightly refresh running?")
    if first > last:
        return [], notes
    found = _problems(state, first, last, deep=deep)
    if not found:
        analytics_reconciled(through=last, rewrites=state.final_rewrites)
    return found, notes


def _problems(state: SummaryState, first: datetime.date, last: datetime.date, *, deep: bool) -> list[Problem]:
    days = [first, last]
    # A month is checked once whole, so from the first of the first day's month.
    months_from = max(first.replace(day=1), state.first_day)
    moments = [moment(local_midnight(first)), moment(local_midnight(last + datetime.timedelta(days=1)))]
    day = local_day("e.recorded_at")
    problems = [
        _compare(
            RULES["points"],
            _rows(LEDGER_POINTS.format(day=day), moments),
            _rows(SUMMARY_POINTS, days),
            ("day", "programme_id", "kind"),
            ("points", "entries"),
        ),
        _found(
            RULES["grains"],
            [r for r in _rows(GRAINS, days) if len({r["a"], r["s"], r["m"], r["f"]}) > 1 or r["ya"] != r["yf"]],
            ("period", "day", "programme_id", "kind"),
        ),
        _found(
            RULES["months"],
            [
                row
                for row in _rows(MONTHS.format(month=month_start("day")), _whole_months(months_from, last))
                if row["days"] != row["month"]
            ],
            ("day", "programme_id", "kind"),
        ),
        _compare(
            RULES["lots"],
            _rows(LEDGER_LOTS.format(day=day), moments * 2),
            _rows(SUMMARY_LOTS, days),
            ("day", "programme_id"),
            ("issued", "used"),
        ),
        _compare(
            RULES["circulation"],
            _rows(LEDGER_CIRCULATION.format(day=day), moments * 2),
            _rows(SUMMARY_CIRCULATION, days),
            ("day", "programme_id"),
            ("points",),
        ),
        _compare(
            RULES["visits"],
            _rows(LEDGER_VISITS.format(day=day), moments),
            _rows(SUMMARY_VISITS, days),
            ("day", "programme_id"),
            ("visits", "receipts", "amount_yen"),
        ),
        _found(RULES["visit_days"], _rows(VISIT_DAYS, days * 2), ("day", "programme_id", "place")),
        _compare(
            RULES["registrations"],
            _rows(LEDGER_REGISTRATIONS.format(day=local_day("j.joined"), joined=registrations_joined()), moments * 2),
            _rows(SUMMARY_REGISTRATIONS, days),
            ("day", "programme_id"),
            ("registrations",),
        ),
    ]
    if deep:
        problems.append(_found(RULES["links"], _rows(VISIT_LINKS, days), ("id",)))
    return [problem for problem in problems if problem]


def rule_names(*, deep: bool = False) -> list[str]:
    return [rule.name for key, rule in RULES.items() if deep or key != "links"]


def _whole_months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The first and last day of the whole months between the two days (an empty range if none)."""
    start = first if first.day == 1 else (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    end = last if (last + datetime.timedelta(days=1)).day == 1 else last.replace(day=1) - datetime.timedelta(days=1)
    return [start, end]
