"""Each analytics report's time (issue 17): target under 300 ms at 100,000 members and 1,000,000 entries.

On the foundation's seeded database (a small one otherwise), in one process:

- the summaries rebuilt from the ledger's first day (`refresh_analytics --all`), timed once, then what the
  schedules run: the night's refresh (yesterday and today, with their months) and today's (every 5
  minutes), each once; then VACUUM ANALYZE of the summary tables, as autovacuum would after a bulk load;
- the reference: one plain aggregate of the ledger, `SELECT kind, SUM(points) FROM points_entry GROUP BY
  kind`, measured like the reports, so that the figures can be read against it on a busy machine;
- verify_ledger's reconciliation of the summaries (analytics.verification) over every final day (--full), best
  of 3 after a warm-up, and from the last day found right,
  and its deep form once;
- in a transaction rolled back afterwards (the database stays as seeded): the demo's promotions put on the
  programme if it has none (2 campaigns, 2 coupon templates, a rally, 120 purchases by 20 members), so that
  the promotions report has lines to show; then each report (points, circulation, members, promotions)
  for three filters: the programme with the most accounts over the last 12 months by month (the admin
  form's default period), its last whole month by day, and the 12 months again for women in their
  thirties; each through its selector, and through the admin page (Django test client logged in as a
  superuser) as HTML and as CSV. Each once to warm up, then the median of 5, with the most queries any run
  made. A report passes when its slowest figure is under the target. All in one connection, as a web
  worker's: a statement run more than 5 times is prepared (the settings' server-side binding), and
  PostgreSQL may plan it for any parameters after 5 more, so the later figures are of prepared statements;
- the other pages of PAGES, alike: the admin's index (the dashboard), and the merchant portal's 分析 as the
  merchant of the store with the most purchases sees it (all its stores for the 12 months by month and for
  the last whole month by day; that store for the 12 months).

The machine may be busy with other work: read the figures against the reference measured in the same run.

Run alone: `python -m bench.analytics [--small] [--database NAME] [--keep-summaries]`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from bench import finish, manage, probe, say, section, terminal_api

TARGET_MS = 300
RUNS = 5
VERIFY_RUNS = 3
REPORTS = ("points", "circulation", "members", "promotions")
SUMMARY_TABLES = (
    "analytics_pointsflow",
    "analytics_lotflow",
    "analytics_circulation",
    "analytics_visit",
    "analytics_visitday",
    "analytics_dormancy",
    "analytics_registration",
)


@dataclass(frozen=True)
class Page:
    """A page timed beside the reports. `url` may name {programme} (the programme timed), {start} and {end}
    (the 12 months), {month_start} and {month_end} (the last whole month), {store} (the store with the most
    purchases); `login` is "superuser", or "merchant" (a portal user of that store's merchant)."""

    name: str
    url: str
    login: str = "superuser"


# Adding a page is one entry here.
PAGES = [
    Page("admin index", "/admin/"),
    # The merchant portal's 分析: all the merchant's stores, a year by month and a month by day; one store.
    Page("portal analytics", "/portal/analytics/?start={start}&end={end}&by=month", login="merchant"),
    Page("portal analytics day", "/portal/analytics/?start={month_start}&end={month_end}&by=day", login="merchant"),
    Page("portal store", "/portal/analytics/stores/{store}/?start={start}&end={end}&by=month", login="merchant"),
]


def run(figures: dict, *, small: bool = False, database: str | None = None, refresh: bool = True) -> None:
    if database is not None:
        done, _seconds = manage(database, "migrate", "--noinput")
        if done.returncode:
            raise RuntimeError("migrate failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    else:
        seeded = "seed_seconds" in figures and not small
        database = terminal_api.DATABASE if seeded else terminal_api.prepare_database(small)
    say(f"== analytics reports on {database}: median of {RUNS} after a warm-up (target < {TARGET_MS} ms)")
    found = probe(database, "bench.analytics", "--measure", *([] if refresh else ["--keep-summaries"]), timeout=3600)
    figures["analytics"] = found
    report_figures(found)


def report_figures(found: dict) -> None:
    if found.get("refresh_s") is not None:
        say(
            f"   summaries rebuilt from the ledger in {found['refresh_s']:.1f} s ({found['refresh_days']} days); "
            f"the night's refresh (yesterday and today) {found['refresh_night_s']:.2f} s, "
            f"today's (every 5 minutes) {found['refresh_today_s']:.2f} s"
        )
    say(f"   summary rows: {', '.join(f'{name} {rows:,}' for name, rows in found['summary_rows'].items())}")
    say(f"   reference: SELECT kind, SUM(points) FROM points_entry GROUP BY kind {found['reference_ms']:.1f} ms")
    for name, report in found["reports"].items():
        verdict = "pass" if report["pass"] else "FAIL"
        say(f"   {name:12} slowest {_ms(report['worst_ms'])} ms: {verdict}")
        for filter_name, ways in report["filters"].items():
            line = "  ".join(f"{way} {_ms(figure['ms'])} ms {_queries(figure)}" for way, figure in ways.items())
            say(f"     {filter_name:8} {line}")
            for way, figure in ways.items():
                if figure.get("error"):
                    say(f"       ! {way}: {figure['error']}")
    for name, figure in found["pages"].items():
        notes = figure.get("error") or ("" if figure["pass"] else "SLOW")
        say(f"   {name:20} {_ms(figure['ms'])} ms {_queries(figure)} {notes}")
    verify = found["verify"]
    say(
        f"   verify_ledger's reconciliation of the summaries, every final day {verify['s']:.2f} s (deep "
        f"{verify['deep_s']:.2f} s), from the last day found right {verify['since_s']:.3f} s, "
        f"{'OK' if verify['ok'] else 'PROBLEMS: ' + '; '.join(verify['problems'])}"
    )


def _ms(value) -> str:
    return "   —  " if value is None else f"{value:6.1f}"


def _queries(figure: dict) -> str:
    return "" if figure.get("queries") is None else f"({figure['queries']} q)"


# --- in the measuring process --------------------------------------------------------------------------


def timed(work) -> dict:
    """Median milliseconds and the most queries over RUNS runs after a warm-up; an error instead of a crash."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        work()
        timings, queries = [], 0
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                work()
                timings.append(time.perf_counter() - started)
            queries = max(queries, len(captured.captured_queries))
        return {"ms": round(statistics.median(timings) * 1000, 1), "queries": queries}
    except Exception as exc:  # a report or page being written by someone else must not stop the bench
        return {"ms": None, "queries": None, "error": f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"}


def page_work(client, url: str):
    def work() -> None:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        if response.status_code != 200:
            where = f" to {response.get('Location')}" if response.status_code in (301, 302) else ""
            raise RuntimeError(f"HTTP {response.status_code}{where}")
        b"".join(response) if response.streaming else response.content

    return work


def filters(programme_id: int, today: datetime.date) -> dict[str, dict]:
    """The filters each report is timed for, as the admin form's fields."""
    from analytics.forms import ReportForm

    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    # The admin form's default period: a year of months up to today.
    year = {"programme": programme_id, "start": ReportForm(today=today).fields["start"].initial, "end": today}
    year["by"] = "month"
    return {
        "month": year,
        "day": {**year, "start": last_month_end.replace(day=1), "end": last_month_end, "by": "day"},
        "members": {**year, "gender": "female", "age_band": 30},
    }


def report_url(name: str, fields: dict, **more) -> str:
    return f"/admin/analytics/{name}report/report/?{query_string(fields, **more)}"


def page_url(page: Page, chosen: dict[str, dict], store: int | None = None) -> str:
    """The page's URL with the names it may use filled in from the filters timed and the store."""
    year, month = chosen["month"], chosen["day"]
    return page.url.format(
        store=store,
        programme=year["programme"],
        start=year["start"].isoformat(),
        end=year["end"].isoformat(),
        month_start=month["start"].isoformat(),
        month_end=month["end"].isoformat(),
    )


def report_filter(fields: dict):
    from analytics.selectors import ReportFilter

    return ReportFilter(
        start=fields["start"],
        end=fields["end"],
        by=fields["by"],
        programme_ids=frozenset({fields["programme"]}),
        gender=fields.get("gender"),
        age_band=fields.get("age_band"),
    )


def selector_work(name: str, report):
    from analytics import selectors

    call = {
        "points": lambda: selectors.points_report(report),
        "circulation": lambda: selectors.circulation_report(report, level=selectors.CATEGORY),
        "members": lambda: selectors.members_report(report, threshold=90),
        "promotions": lambda: selectors.promotions_report(report),
    }[name]
    return call


def query_string(fields: dict, **more) -> str:
    values = {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in fields.items()}
    return urlencode({**values, **more})


def refresh_summaries(found: dict) -> None:
    from django.db import connection

    from analytics.services import analytics_refresh, ledger_first_day

    first = ledger_first_day()
    started = time.perf_counter()
    done = analytics_refresh(first_day=first)
    found["refresh_s"] = round(time.perf_counter() - started, 1)
    found["refresh_days"] = (done.last_day - done.first_day).days + 1
    # What the schedules run: after midnight, yesterday and today; every 5 minutes, today.
    started = time.perf_counter()
    analytics_refresh(first_day=done.last_day - datetime.timedelta(days=1))
    found["refresh_night_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    analytics_refresh()
    found["refresh_today_s"] = round(time.perf_counter() - started, 2)
    with connection.cursor() as cursor:
        for table in SUMMARY_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


def busiest_store() -> int | None:
    """The store with the most purchases: its merchant is the portal's login, and its page is timed."""
    from django.db.models import Count

    from points.models import Entry

    busiest = (
        Entry.objects.filter(kind=Entry.Kind.EARN, store__isnull=False)
        .values("store_id")
        .annotate(n=Count("*"))
        .order_by("-n")
        .first()
    )
    return busiest["store_id"] if busiest else None


def logins(store: int | None = None) -> dict:
    """A test client for each kind of login PAGES names: the merchant's is of the store's merchant."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from stores.models import MerchantUser, Store

    users = get_user_model().objects
    superuser, _created = users.update_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    clients = {"superuser": Client()}
    clients["superuser"].force_login(superuser)
    if store is not None:
        merchant = Store.objects.get(pk=store).merchant
        user, _created = users.get_or_create(username="bench-merchant")
        MerchantUser.objects.update_or_create(user=user, defaults={"merchant": merchant})
        clients["merchant"] = Client()
        clients["merchant"].force_login(user)
    return clients


def time_reports(found: dict, programme_id: int, clients: dict, store: int | None = None) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    chosen = filters(programme_id, today)
    found["filters"] = {name: query_string(fields) for name, fields in chosen.items()}
    admin = clients["superuser"]
    found["reports"] = {}
    for name in REPORTS:
        by_filter = {}
        for filter_name, fields in chosen.items():
            by_filter[filter_name] = {
                "selector": timed(selector_work(name, report_filter(fields))),
                "html": timed(page_work(admin, report_url(name, fields))),
                "csv": timed(page_work(admin, report_url(name, fields, format="csv"))),
            }
        times = [figure["ms"] for ways in by_filter.values() for figure in ways.values()]
        worst = None if None in times else max(times)
        found["reports"][name] = {
            "worst_ms": worst,
            "pass": worst is not None and worst < TARGET_MS,
            "filters": by_filter,
        }
    found["pages"] = {}
    for page in PAGES:
        client = clients.get(page.login)
        if client is None:
            figure = {"ms": None, "queries": None, "error": f"no {page.login} login on this database"}
        else:
            figure = timed(page_work(client, page_url(page, chosen, store)))
        figure["pass"] = figure["ms"] is not None and figure["ms"] < TARGET_MS
        found["pages"][page.name] = figure


def measure(*, refresh: bool = True) -> dict:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count

    from analytics.services import analytics_refresh
    from analytics.verification import summary_problems
    from campaigns.models import Campaign
    from demo.promotions import demo_promotions
    from points.models import Account, Programme

    found: dict = {"target_ms": TARGET_MS, "runs": RUNS}
    if refresh:
        refresh_summaries(found)
    with connection.cursor() as cursor:
        found["summary_rows"] = {}
        for table in SUMMARY_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            found["summary_rows"][table.removeprefix("analytics_")] = cursor.fetchone()[0]

    def reference() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT kind, SUM(points) FROM points_entry GROUP BY kind")
            cursor.fetchall()

    found["reference_ms"] = timed(reference)["ms"]

    # Every final day (full): a default reading reads only the days after the last one it found right, which
    # after the first reading here is none (timed apart, as the night's reading of one new day would be).
    problems, _notes = summary_problems(full=True)
    timings = []
    for _ in range(VERIFY_RUNS):
        started = time.perf_counter()
        summary_problems(full=True)
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    deep, _notes = summary_problems(deep=True, full=True)
    deep_s = time.perf_counter() - started
    started = time.perf_counter()
    summary_problems()
    found["verify"] = {
        "s": round(min(timings), 2),
        "deep_s": round(deep_s, 2),
        "since_s": round(time.perf_counter() - started, 3),
        "ok": not problems and not deep,
        "problems": [str(problem) for problem in deep or problems],
    }

    # The programme with the most accounts: the street's own card, in the demo and the bench.
    busiest = Account.objects.values("programme_id").annotate(n=Count("*")).order_by("-n").first()
    programme = Programme.objects.get(pk=busiest["programme_id"])
    store = busiest_store()
    clients = logins(store)

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            if not Campaign.objects.filter(programme=programme).exists():
                # Something for the promotions report to show, taken away again afterwards.
                demo_promotions(programme=programme)
                analytics_refresh()
                found["promotions"] = "the demo's promotions, added for the run and rolled back"
            time_reports(found, programme.pk, clients, store)
            raise Rollback
    except Rollback:
        pass
    found["all_pass"] = all(report["pass"] for report in found["reports"].values())
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=f"seed and use a small {terminal_api.SMALL_DATABASE}")
    parser.add_argument("--database", help="an already seeded database to use (default: loyalty_bench)")
    parser.add_argument(
        "--keep-summaries", action="store_true", help="time the summaries as they are, without rebuilding them"
    )
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(refresh=not options.keep_summaries)), flush=True)
        return 0
    started = time.perf_counter()
    figures: dict = {"issue": "analytics"}
    section(
        figures,
        "analytics",
        run,
        small=options.small,
        database=options.database,
        refresh=not options.keep_summaries,
    )
    return finish(figures, started)


if __name__ == "__main__":
    sys.exit(main())
