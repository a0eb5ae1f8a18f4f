"""The summaries' statements, for PostgreSQL and SQLite: each refresh step is a DELETE of a range of days
and an INSERT ... SELECT ... GROUP BY over the ledger (or over the visits just written), called only by
analytics.services. The few expressions the two databases spell differently (a Tokyo day, a month's first
day, days between two dates) come from the functions at the top."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from analytics.bands import DORMANCY_THRESHOLDS, gap_band_sql

# --- expressions the two databases spell differently -----------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def local_day(column: str) -> str:
    """The Tokyo day of a moment."""
    zone = settings.TIME_ZONE
    if _pg():
        return f"(({column}) AT TIME ZONE '{zone}')::date"
    return f"django_datetime_cast_date({column}, '{zone}', 'UTC')"


def month_start(expression: str) -> str:
    if _pg():
        return f"date_trunc('month', {expression})::date"
    return f"date({expression}, 'start of month')"


def days_between(later: str, earlier: str) -> str:
    if _pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def plus_days(expression: str, days: str) -> str:
    """A date `days` (an SQL integer expression) after another."""
    if _pg():
        return f"({expression} + {days})"
    return f"date({expression}, ({days}) || ' days')"


def moment(value):
    """A moment as a raw statement's parameter: SQLite compares the stored UTC text."""
    return connection.ops.adapt_datetimefield_value(value)


def date_param() -> str:
    """A date parameter where the database must know it is one (PostgreSQL, in arithmetic)."""
    return "CAST(%s AS date)" if _pg() else "%s"


def year_of(expression: str) -> str:
    if _pg():
        return f"CAST(EXTRACT(YEAR FROM {expression}) AS integer)"
    return f"CAST(strftime('%%Y', {expression}) AS integer)"


def month_of(expression: str) -> str:
    if _pg():
        return f"CAST(EXTRACT(MONTH FROM {expression}) AS integer)"
    return f"CAST(strftime('%%m', {expression}) AS integer)"


def thresholds() -> str:
    """The dormancy thresholds as a one-column table `t(n)`."""
    return "(" + " UNION ALL ".join(f"SELECT {n} AS n" for n in DORMANCY_THRESHOLDS) + ") t"


# --- a member's attributes on a day ----------------------------------------------------------------------


def age_band(member: str, day: str) -> str:
    """The member's age band on the day: under 20 (10), 20 … 60 by decade, 70 and over (70); NULL unknown."""
    age = (
        f"({year_of(day)} - {member}.birth_year - "
        f"CASE WHEN {month_of(day)} < COALESCE({member}.birth_month, 1) THEN 1 ELSE 0 END)"
    )
    return (
        f"CASE WHEN {member}.birth_year IS NULL THEN NULL WHEN {age} < 20 THEN 10 WHEN {age} >= 70 THEN 70 "
        f"ELSE ({age} / 10) * 10 END"
    )


def rank_on(member_id: str, programme_id: str, day: str, *, ranked: bool) -> str:
    """The member's rank in the programme on the day: the latest rank record in effect (NULL without one).
    `ranked` False (no programme has rank records yet) skips the lookup."""
    if not ranked:
        return "CAST(NULL AS bigint)"
    return (
        f"(SELECT r.rank_id FROM ranks_rankrecord r WHERE r.member_id = {member_id} "
        f"AND r.programme_id = {programme_id} AND r.effective_on <= {day} "
        f"ORDER BY r.effective_on DESC, r.id DESC LIMIT 1)"
    )


ATTRIBUTES = ("gender", "age_band", "postal_code", "rank_id")
# Typed, so that a UNION of rows with and without the attributes agrees on every column's type.
NO_ATTRIBUTES = ("''", "CAST(NULL AS integer)", "''", "CAST(NULL AS bigint)")


def attributes_select(member: str, member_id: str, programme_id: str, day: str, *, ranked: bool) -> str:
    return (
        f"{member}.gender AS gender, {age_band(member, day)} AS age_band, {member}.postal_code AS postal_code, "
        f"{rank_on(member_id, programme_id, day, ranked=ranked)} AS rank_id"
    )


# --- the statements: each a WITH of what it reads and one INSERT of every grain -----------------------


def points_base(*, ranked: bool) -> str:
    """Every entry recorded in [%s, %s) as (day, programme, store, kind, funder, member, points, amount,
    weight) with the member's attributes; an expiry as one row per lot it took, at that lot's store, the
    entry counted (weight 1) on the first of them only. Parameters: the range twice."""
    day = local_day("e.recorded_at")
    return f"""
        SELECT x.day, x.programme_id, x.store_id, x.kind, x.funder, x.member_id, x.points, x.amount_yen, x.weight,
               {attributes_select("m", "x.member_id", "x.programme_id", "x.day", ranked=ranked)}
        FROM (
            SELECT {day} AS day, a.programme_id, e.store_id, e.kind, e.funder, a.member_id, e.points,
                   e.amount_yen, 1 AS weight
            FROM points_entry e JOIN points_account a ON a.id = e.account_id
            WHERE e.recorded_at >= %s AND e.recorded_at < %s AND e.kind <> 'expire'
            UNION ALL
            SELECT {day}, a.programme_id, l.store_id, e.kind, e.funder, a.member_id, -u.points, NULL,
                   CASE WHEN u.id = (SELECT MIN(f.id) FROM points_lotuse f WHERE f.entry_id = e.id) THEN 1 ELSE 0 END
            FROM points_entry e JOIN points_account a ON a.id = e.account_id
            JOIN points_lotuse u ON u.entry_id = e.id JOIN points_lot l ON l.id = u.lot_id
            WHERE e.kind = 'expire' AND e.recorded_at >= %s AND e.recorded_at < %s
        ) x JOIN members_member m ON m.id = x.member_id
    """


POINTS_GRAINS = {
    # grain: (with the store, with the member attributes)
    "A": (False, False),
    "S": (True, False),
    "M": (False, True),
    "F": (True, True),
}


def points_insert(*, ranked: bool, period: str) -> str:
    """Every grain of the days (period "D") or the months ("M": the range then covers whole months) in
    [%s, %s). Each grain is summed per member first and then counted, so that the members are distinct
    without a COUNT(DISTINCT). Parameters: the range twice."""
    bucket = "day" if period == "D" else month_start("day")
    ctes, selects = [], []
    for grain, (with_store, with_members) in POINTS_GRAINS.items():
        keys = ["programme_id", "kind", "funder"] + (["store_id"] if with_store else [])
        keys += list(ATTRIBUTES) if with_members else []
        ctes.append(
            f"""g{grain} AS (
            SELECT {bucket} AS bucket, {", ".join(keys)}, member_id, SUM(points) AS points, SUM(weight) AS entries,
                   COALESCE(SUM(amount_yen), 0) AS amount_yen
            FROM base GROUP BY {bucket}, {", ".join(keys)}, member_id)"""
        )
        store = "store_id" if with_store else "CAST(NULL AS bigint)"
        attributes = ATTRIBUTES if with_members else NO_ATTRIBUTES
        selects.append(
            f"""
            SELECT '{period}', bucket, '{grain}', programme_id, {store}, kind, funder, {", ".join(attributes)},
                   SUM(points), SUM(entries), SUM(amount_yen), COUNT(*)
            FROM g{grain} GROUP BY bucket, {", ".join(keys)}"""
        )
    return f"""
        WITH base AS ({points_base(ranked=ranked)}), {", ".join(ctes)}
        INSERT INTO analytics_pointsflow (period, day, grain, programme_id, store_id, kind, funder, gender,
                                          age_band, postal_code, rank_id, points, entries, amount_yen, members)
        {" UNION ALL ".join(selects)}
    """


def lot_flow_insert() -> str:
    """Lots formed and lot uses by entries recorded in [%s, %s), per day, programme and issuing store.
    Parameters: the range twice."""
    day = local_day("e.recorded_at")
    return f"""
        INSERT INTO analytics_lotflow (day, programme_id, store_id, issued, used)
        SELECT day, programme_id, store_id, SUM(issued), SUM(used) FROM (
            SELECT {day} AS day, a.programme_id, l.store_id, l.points AS issued, 0 AS used
            FROM points_entry e JOIN points_lot l ON l.entry_id = e.id JOIN points_account a ON a.id = l.account_id
            WHERE e.recorded_at >= %s AND e.recorded_at < %s
            UNION ALL
            SELECT {day}, a.programme_id, l.store_id, 0, u.points
            FROM points_entry e JOIN points_lotuse u ON u.entry_id = e.id JOIN points_lot l ON l.id = u.lot_id
            JOIN points_account a ON a.id = l.account_id
            WHERE e.recorded_at >= %s AND e.recorded_at < %s
        ) x GROUP BY day, programme_id, store_id
    """


def circulation_insert(*, period: str) -> str:
    """What spends recorded in [%s, %s) took from lots (issuing store → spending store), less what voided
    spends gave back, per day (period "D") or month ("M"). Parameters: the range twice."""
    day = local_day("e.recorded_at")
    bucket = "day" if period == "D" else month_start("day")
    return f"""
        WITH base AS (
            SELECT {day} AS day, a.programme_id, l.store_id AS issued_at_id, e.store_id AS spent_at_id,
                   a.member_id, u.points
            FROM points_entry e JOIN points_account a ON a.id = e.account_id
            JOIN points_lotuse u ON u.entry_id = e.id JOIN points_lot l ON l.id = u.lot_id
            WHERE e.kind = 'spend' AND e.recorded_at >= %s AND e.recorded_at < %s
            UNION ALL
            SELECT {day}, a.programme_id, l.store_id, e.store_id, a.member_id, -l.points
            FROM points_entry e JOIN points_account a ON a.id = e.account_id JOIN points_lot l ON l.entry_id = e.id
            WHERE e.kind = 'void' AND e.points > 0 AND e.recorded_at >= %s AND e.recorded_at < %s
        ), per_member AS (
            SELECT {bucket} AS bucket, programme_id, issued_at_id, spent_at_id, member_id, SUM(points) AS points
            FROM base GROUP BY {bucket}, programme_id, issued_at_id, spent_at_id, member_id
        )
        INSERT INTO analytics_circulation (period, day, programme_id, issued_at_id, spent_at_id, points, members)
        SELECT '{period}', bucket, programme_id, issued_at_id, spent_at_id, SUM(points), COUNT(*)
        FROM per_member GROUP BY bucket, programme_id, issued_at_id, spent_at_id
    """


# --- visits ------------------------------------------------------------------------------------------------


def visits_base(*, ranked: bool) -> str:
    """Each member's purchases (earnings) recorded in [%s, %s) per day, programme and store, with the
    member's attributes and the store's category. Parameters: the range."""
    day = local_day("e.recorded_at")
    return f"""
        SELECT x.day, x.programme_id, x.member_id, x.store_id, COALESCE(s.category, '') AS category,
               x.receipts, x.amount_yen,
               {attributes_select("m", "x.member_id", "x.programme_id", "x.day", ranked=ranked)}
        FROM (
            SELECT {day} AS day, a.programme_id, a.member_id, e.store_id, COUNT(*) AS receipts,
                   COALESCE(SUM(e.amount_yen), 0) AS amount_yen
            FROM points_entry e JOIN points_account a ON a.id = e.account_id
            WHERE e.kind = 'earn' AND e.recorded_at >= %s AND e.recorded_at < %s
            GROUP BY {day}, a.programme_id, a.member_id, e.store_id
        ) x JOIN members_member m ON m.id = x.member_id LEFT JOIN stores_store s ON s.id = x.store_id
    """


def _same_place(alias: str, other: str) -> str:
    return (
        f"{alias}.member_id = {other}.member_id AND {alias}.programme_id = {other}.programme_id "
        f"AND {alias}.place = {other}.place"
    )


def visits_insert(*, ranked: bool, everyone: bool) -> str:
    """The visits of [%s, %s) at each place (the store, the store's category, the programme), each with
    the previous and next visit to the place: among them, or, unless `everyone` is new, the latest before
    them already summarised. Parameters: the range, then its first day (unless everyone)."""
    attributes = ", ".join(ATTRIBUTES)
    window = "OVER (PARTITION BY programme_id, place, member_id ORDER BY day)"
    if everyone:
        previous = "previous_day"
    else:
        previous = (
            "COALESCE(previous_day, (SELECT MAX(o.day) FROM analytics_visit o "
            f"WHERE {_same_place('o', 'linked')} AND o.day < %s))"
        )
    store_place = "'s:' || CAST(store_id AS varchar(20))" if _pg() else "'s:' || store_id"
    return f"""
        WITH base AS ({visits_base(ranked=ranked)}),
        places AS (
            SELECT programme_id, {store_place} AS place, member_id, day, receipts, amount_yen, {attributes}
            FROM base WHERE store_id IS NOT NULL
            UNION ALL
            SELECT programme_id, 'c:' || category, member_id, day, SUM(receipts), SUM(amount_yen), {attributes}
            FROM base WHERE category <> ''
            GROUP BY programme_id, category, member_id, day, {attributes}
            UNION ALL
            SELECT programme_id, '', member_id, day, SUM(receipts), SUM(amount_yen), {attributes}
            FROM base GROUP BY programme_id, member_id, day, {attributes}
        ),
        linked AS (
            SELECT places.*, LAG(day) {window} AS previous_day, LEAD(day) {window} AS next_day FROM places
        ),
        known AS (SELECT linked.*, {previous} AS known_previous FROM linked)
        INSERT INTO analytics_visit (programme_id, place, member_id, day, receipts, amount_yen, {attributes},
                                     previous_day, next_day, gap_days, first_in_month)
        SELECT programme_id, place, member_id, day, receipts, amount_yen, {attributes}, known_previous, next_day,
               CASE WHEN known_previous IS NULL THEN NULL ELSE {days_between("day", "known_previous")} END,
               (known_previous IS NULL OR known_previous < {month_start("day")})
        FROM known
        ORDER BY member_id, programme_id, place, day
    """


def visits_link_before() -> str:
    """The visits of members who came back from %s to %s to a place they had visited before %s: the latest
    such visit before the range, at each place, learns its next visit (the first of the range's visits there,
    whose `previous_day`, written by `visits_insert`, names it). It starts from the range's visits, by day,
    and finds each visit they link by the member's index, rather than going through every member's history.
    Parameters: the range, then its first day twice."""
    return f"""
        UPDATE analytics_visit SET next_day = linked.next_day
        FROM (
            SELECT member_id, programme_id, place, previous_day, MIN(day) AS next_day FROM analytics_visit
            WHERE day BETWEEN %s AND %s AND previous_day < %s
            GROUP BY member_id, programme_id, place, previous_day
        ) linked
        WHERE {_same_place("analytics_visit", "linked")} AND analytics_visit.day = linked.previous_day
          AND analytics_visit.day < %s AND analytics_visit.next_day IS NULL
    """


def visit_days_insert() -> str:
    """Visits from %s to %s per day and place by band and first of the month; with the member attributes
    for the programme as a whole. Parameters: the range twice."""
    band = gap_band_sql("gap_days")
    attributes = ", ".join(ATTRIBUTES)
    head = f"""INSERT INTO analytics_visitday (day, programme_id, place, grain, gap_band,
        first_in_month, visits, receipts, amount_yen, {attributes})"""
    return f"""{head}
        SELECT day, programme_id, place, 'P', {band}, first_in_month, COUNT(*), SUM(receipts),
               SUM(amount_yen), {", ".join(NO_ATTRIBUTES)}
        FROM analytics_visit WHERE day BETWEEN %s AND %s
        GROUP BY day, programme_id, place, {band}, first_in_month
        UNION ALL
        SELECT day, programme_id, '', 'M', {band}, first_in_month, COUNT(*), SUM(receipts), SUM(amount_yen),
               {attributes}
        FROM analytics_visit WHERE day BETWEEN %s AND %s AND place = ''
        GROUP BY day, programme_id, {band}, first_in_month, {attributes}
    """


def dormancy_events() -> str:
    """One row per member, place and threshold for each visit after which the member stayed away longer
    than the threshold: +1 on the day the silence reached it (from %s to %s), −1 on the day they came back
    (from %s to %s); both under the attributes of the visit before the silence, so that they cancel.
    Parameters: the range twice."""
    became_day = plus_days("v.day", "t.n")
    attributes = ", ".join(f"v.{name}" for name in ATTRIBUTES)
    return f"""
        SELECT {became_day} AS day, v.programme_id, v.place, t.n AS threshold, 1 AS became, 0 AS returned,
               {attributes}
        FROM analytics_visit v, {thresholds()}
        WHERE v.day >= {plus_days(date_param(), "-t.n")} AND v.day <= {plus_days(date_param(), "-t.n")}
          AND (v.next_day IS NULL OR v.next_day > {became_day})
        UNION ALL
        SELECT n.day, n.programme_id, n.place, t.n, 0, 1, {attributes}
        FROM analytics_visit n JOIN {thresholds()} ON n.gap_days > t.n
        JOIN analytics_visit v ON {_same_place("v", "n")} AND v.day = n.previous_day
        WHERE n.day BETWEEN %s AND %s
    """


def dormancy_insert() -> str:
    """Parameters: those of `dormancy_events`."""
    attributes = ", ".join(ATTRIBUTES)
    return f"""
        WITH base AS ({dormancy_events()})
        INSERT INTO analytics_dormancy (day, programme_id, place, grain, threshold, became, returned, {attributes})
        SELECT day, programme_id, place, 'P', threshold, SUM(became), SUM(returned), {", ".join(NO_ATTRIBUTES)}
        FROM base GROUP BY day, programme_id, place, threshold
        UNION ALL
        SELECT day, programme_id, '', 'M', threshold, SUM(became), SUM(returned), {attributes}
        FROM base WHERE place = ''
        GROUP BY day, programme_id, threshold, {attributes}
    """


def registrations_joined() -> str:
    """Each member's joining of each programme that began in [%s, %s): the later of their registration and
    the first entry of their account in the programme, as (member_id, programme_id, joined). A moment in the
    past, so a day once over keeps its count: a member registered earlier whose account opens today joins
    today, a provisional member who registers today after earning joins today. A programme account without
    an entry has not joined yet. Parameters: the range twice."""
    return """
        SELECT m.id AS member_id, a.programme_id, m.registered_at AS joined
        FROM members_member m JOIN points_account a ON a.member_id = m.id
        WHERE m.registered_at >= %s AND m.registered_at < %s
          AND EXISTS (SELECT 1 FROM points_entry f WHERE f.account_id = a.id AND f.recorded_at <= m.registered_at)
        UNION ALL
        SELECT m.id, a.programme_id, e.recorded_at
        FROM points_entry e JOIN points_account a ON a.id = e.account_id JOIN members_member m ON m.id = a.member_id
        WHERE e.recorded_at >= %s AND e.recorded_at < %s AND m.registered_at < e.recorded_at
          AND NOT EXISTS (
              SELECT 1 FROM points_entry f WHERE f.account_id = e.account_id
              AND (f.recorded_at < e.recorded_at OR (f.recorded_at = e.recorded_at AND f.id < e.id)))
    """


def registrations_insert(*, ranked: bool) -> str:
    """Members who joined a programme in [%s, %s) (registrations_joined), per day and programme. Parameters:
    the range twice."""
    day = local_day("j.joined")
    attributes = ", ".join(ATTRIBUTES)
    return f"""
        INSERT INTO analytics_registration (day, programme_id, registrations, {attributes})
        SELECT day, programme_id, COUNT(*), {attributes} FROM (
            SELECT {day} AS day, j.programme_id,
                   {attributes_select("m", "m.id", "j.programme_id", day, ranked=ranked)}
            FROM ({registrations_joined()}) j JOIN members_member m ON m.id = j.member_id
        ) x GROUP BY day, programme_id, {attributes}
    """
