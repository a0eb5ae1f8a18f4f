"""The admin's home page: today's and this month's figures against last month's, small charts of the last
four weeks, the terminals silent now, what is due (a period to close or send, overdue payments, an exchange
window opening, failed background tasks), and the campaigns' and rallies' progress.

Figures come from the daily summaries (`PointsFlow`, `VisitDay`; today's refreshed every few minutes), the
rest from indexed reads: a bounded number of queries, however many members, entries, terminals or
promotions there are. Every read is limited to the staff's programmes (`programme_ids`, None for the whole
group); figures about one to four members are common.privacy's SMALL_GROUP. Which parts a page shows is
the caller's to say (`sections`, by the staff's role); each due item's link goes to the admin page where it
is acted on, or, for staff who may only read it (`can`), to the page that shows it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.charts import Chart, Series, svg
from analytics.models import PointsFlow, SummaryState, VisitDay
from analytics.selectors.points import GROUPS
from billing.models import Period, Statement
from billing.selectors import periods_to_close, statements_overdue
from campaigns.models import Campaign, CampaignApplication
from common.privacy import SMALL_GROUP, masked
from exchange.models import WindowRule
from exchange.windows import windows_from
from points.models import Entry
from rallies.models import GoalReached, Rally, Stamp
from stores.models import Terminal
from stores.selectors import terminals_silent

# What a page may show; the admin site gives each role its sections.
FIGURES, TERMINALS, DUE, PROMOTIONS = "figures", "terminals", "due", "promotions"
SECTIONS = frozenset({FIGURES, TERMINALS, DUE, PROMOTIONS})

CHART_DAYS = 28
CHART_WIDTH, CHART_HEIGHT = 440, 240
WINDOW_AHEAD_DAYS = 7
FAILURES_SINCE_DAYS = 7
LISTED = 10
TRANSACTIONS = (Entry.Kind.EARN, Entry.Kind.SPEND)  # the till's purchases and payments, as billing counts them


@dataclass
class Figure:
    """One line of the figures: today against the same day last month, this month so far against the same
    days of last month, and last month whole. Values are numbers or SMALL_GROUP."""

    key: str
    label: str
    today: object = 0
    same_day_last_month: object = 0
    this_month: object = 0
    last_month_to_date: object = 0
    last_month: object = 0

    @property
    def today_change(self) -> Decimal | None:
        return _change(self.same_day_last_month, self.today)

    @property
    def month_change(self) -> Decimal | None:
        return _change(self.last_month_to_date, self.this_month)


@dataclass(frozen=True)
class Days:
    """The days the figures compare."""

    today: datetime.date
    same_day_last_month: datetime.date
    month_start: datetime.date
    last_month_start: datetime.date
    last_month_end: datetime.date

    @classmethod
    def of(cls, today: datetime.date) -> Days:
        last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
        same_day = last_month_end.replace(day=min(today.day, last_month_end.day))
        return cls(today, same_day, today.replace(day=1), last_month_end.replace(day=1), last_month_end)

    @property
    def first(self) -> datetime.date:
        """The first day any figure or chart reads."""
        return min(self.last_month_start, self.today - datetime.timedelta(days=CHART_DAYS - 1))

    def spans(self) -> dict[str, tuple[datetime.date, datetime.date]]:
        return {
            "today": (self.today, self.today),
            "same_day_last_month": (self.same_day_last_month, self.same_day_last_month),
            "this_month": (self.month_start, self.today),
            "last_month_to_date": (self.last_month_start, self.same_day_last_month),
            "last_month": (self.last_month_start, self.last_month_end),
        }


@dataclass(frozen=True)
class DueItem:
    kind: str  # "close", "send", "overdue", "window", "failures"
    text: str
    url: str
    link_text: str


@dataclass(frozen=True)
class SilentTerminal:
    code: str
    name: str
    store: str
    last_seen_at: datetime.datetime | None


@dataclass
class Progress:
    """A campaign's or a rally's progress: how far through its time, who took part, what it gave."""

    kind: str  # "campaign" or "rally"
    name: str
    programme: str
    url: str
    first_day: datetime.date
    last_day: datetime.date
    elapsed_percent: int
    participants: object
    points: object = None  # campaign: bonus points given
    budget_percent: int | None = None  # campaign: share of its budget used
    stamps: object = None  # rally: live stamps
    goals_reached: object = None  # rally: members who reached a goal


@dataclass
class Dashboard:
    sections: frozenset[str]
    as_of: datetime.datetime | None = None
    figures: list[Figure] = field(default_factory=list)
    charts: list = field(default_factory=list)  # drawn SVG
    terminals_silent: int = 0
    terminals: list[SilentTerminal] = field(default_factory=list)
    terminals_url: str = ""
    due: list[DueItem] = field(default_factory=list)
    campaigns: list[Progress] = field(default_factory=list)
    rallies: list[Progress] = field(default_factory=list)


def dashboard(
    *,
    programme_ids: frozenset[int] | None,
    sections: frozenset[str],
    can: Callable[[str], bool],
    now: datetime.datetime | None = None,
) -> Dashboard:
    """The home page for staff of these programmes (None: the whole group), with these sections; `can`
    answers whether the staff member holds a permission ("billing.change_period")."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    board = Dashboard(sections=sections)
    if FIGURES in sections:
        board.as_of = SummaryState.objects.values_list("covered_until", flat=True).first()
        days = Days.of(today)
        flows = _flows(programme_ids, days)
        visits = _visits(programme_ids, days)
        board.figures = _figures(days, flows, visits)
        board.charts = [svg(chart) for chart in _charts(days, flows, visits)]
    if TERMINALS in sections and can("stores.view_terminal"):
        _terminals(board, programme_ids, now)
    if DUE in sections:
        board.due = _due(programme_ids, can, now, today)
    if PROMOTIONS in sections:
        if can("campaigns.view_campaign"):
            board.campaigns = _campaigns(programme_ids, now)
        if can("rallies.view_rally"):
            board.rallies = _rallies(programme_ids, now)
    return board


# --- figures and charts -------------------------------------------------------------------------------


def _programmes(rows, programme_ids, field_name: str = "programme_id"):
    return rows if programme_ids is None else rows.filter(**{f"{field_name}__in": programme_ids})


def _flows(programme_ids, days: Days) -> list[dict]:
    """Points and entries moved per day and kind over every day the page reads (the programmes' rows)."""
    rows = PointsFlow.objects.filter(
        period="D", grain=PointsFlow.Grain.PROGRAMME, day__gte=days.first, day__lte=days.today
    )
    return list(
        _programmes(rows, programme_ids)
        .values("day", "kind")
        .annotate(points=Sum("points"), entries=Sum("entries"), amount_yen=Sum("amount_yen"), members=Max("members"))
        .order_by()
    )


def _visits(programme_ids, days: Days) -> dict[datetime.date, dict[bool, int]]:
    """Members who shopped per day, and those whose first visit of the month it was."""
    rows = VisitDay.objects.filter(grain=VisitDay.Grain.PLACE, place="", day__gte=days.first, day__lte=days.today)
    found: dict[datetime.date, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for row in (
        _programmes(rows, programme_ids).values("day", "first_in_month").annotate(visits=Sum("visits")).order_by()
    ):
        found[row["day"]][row["first_in_month"]] += row["visits"]
    return found


def _flow_figure(flows: list[dict], first: datetime.date, last: datetime.date, kinds, sign: int, what: str):
    """A sum over the days [first, last] of the flows of these kinds, hidden when about one to four members
    (the largest count of members of any row added, as the points report reads them)."""
    total = members = 0
    for flow in flows:
        if first <= flow["day"] <= last and flow["kind"] in kinds:
            total += sign * flow[what]
            members = max(members, flow["members"])
    return masked(total, members)


def _members_figure(visits, first: datetime.date, last: datetime.date, *, whole_months: bool):
    """Members who shopped: on one day its visits; over days from a month's first, the first visits of the
    month (each member once). Across programmes a member is counted in each programme."""
    day, total = first, 0
    while day <= last:
        counts = visits.get(day, {True: 0, False: 0})
        total += counts[True] if whole_months else counts[True] + counts[False]
        day += datetime.timedelta(days=1)
    return masked(total, total)


def _figures(days: Days, flows: list[dict], visits) -> list[Figure]:
    issued_kinds, issued_sign = GROUPS["issued"]
    spent_kinds, spent_sign = GROUPS["spent"]
    lines = [
        Figure("issued", _("Points issued")),
        Figure("spent", _("Points spent")),
        Figure("transactions", _("Transactions (purchases and point payments)")),
        Figure("purchases_yen", _("Purchases (yen)")),
        Figure("members", _("Members who shopped")),
    ]
    for name, (first, last) in days.spans().items():
        values = {
            "issued": _flow_figure(flows, first, last, issued_kinds, issued_sign, "points"),
            "spent": _flow_figure(flows, first, last, spent_kinds, spent_sign, "points"),
            "transactions": _flow_figure(flows, first, last, TRANSACTIONS, 1, "entries"),
            "purchases_yen": _flow_figure(flows, first, last, (Entry.Kind.EARN,), 1, "amount_yen"),
            "members": _members_figure(visits, first, last, whole_months=first != last),
        }
        for line in lines:
            setattr(line, name, values[line.key])
    return lines


def _charts(days: Days, flows: list[dict], visits) -> list[Chart]:
    chart_days = [days.today - datetime.timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    labels = [f"{day:%m/%d}" for day in chart_days]
    issued_kinds, issued_sign = GROUPS["issued"]
    spent_kinds, spent_sign = GROUPS["spent"]
    return [
        Chart(
            id="dashboard-points-chart",
            title=_("Points issued and spent, last four weeks"),
            labels=labels,
            series=[
                Series(
                    _("points issued"),
                    [_flow_figure(flows, d, d, issued_kinds, issued_sign, "points") for d in chart_days],
                ),
                Series(
                    _("points spent"),
                    [_flow_figure(flows, d, d, spent_kinds, spent_sign, "points") for d in chart_days],
                ),
            ],
            unit=_("pt"),
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
        ),
        Chart(
            id="dashboard-members-chart",
            title=_("Members who shopped, last four weeks"),
            labels=labels,
            series=[
                Series(
                    _("members who shopped"),
                    [_members_figure(visits, d, d, whole_months=False) for d in chart_days],
                )
            ],
            unit=_("people"),
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
        ),
    ]


def _change(before, after) -> Decimal | None:
    if before is SMALL_GROUP or after is SMALL_GROUP or not before:
        return None
    return (Decimal(100 * (after - before)) / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- terminals -----------------------------------------------------------------------------------------


def _terminals(board: Dashboard, programme_ids, now: datetime.datetime) -> None:
    """Active terminals not heard from for longer than TERMINAL_SILENT_AFTER_MINUTES (stores.selectors),
    longest silent first."""
    terminals = Terminal.objects.all()
    if programme_ids is not None:
        terminals = terminals.filter(store__participation__programme_id__in=programme_ids).distinct()
    silent = terminals_silent(queryset=terminals, now=now)
    board.terminals_silent = silent.count()
    listed = silent.select_related("store").order_by("last_seen_at", "code")[:LISTED] if board.terminals_silent else []
    board.terminals = [
        SilentTerminal(code=t.code, name=t.name, store=str(t.store), last_seen_at=t.last_seen_at) for t in listed
    ]
    board.terminals_url = reverse("admin:stores_terminal_changelist") + "?silent=yes"


# --- what is due -----------------------------------------------------------------------------------------


def _due(programme_ids, can: Callable[[str], bool], now: datetime.datetime, today: datetime.date) -> list[DueItem]:
    due: list[DueItem] = []
    if can("billing.view_period"):
        due += _periods_due(programme_ids, can, now)
    if can("billing.view_statement"):
        due += _overdue(programme_ids, today)
    if can("exchange.view_windowrule"):
        due += _windows(programme_ids, can, today)
    if programme_ids is None and can("django_q.view_failure"):
        due += _failures(now)
    return due


def _periods_due(programme_ids, can, now: datetime.datetime) -> list[DueItem]:
    found = []
    may_change = can("billing.change_period")
    for programme, year, month in periods_to_close(programme_ids=programme_ids, now=now):
        url = reverse("admin:billing_period_close") if may_change else reverse("admin:billing_period_changelist")
        found.append(
            DueItem(
                kind="close",
                text=_("%(programme)s: the period %(year)d/%(month)02d has ended and is not closed.")
                % {"programme": programme.name, "year": year, "month": month},
                url=url,
                link_text=_("Close the period") if may_change else _("Billing periods"),
            )
        )
    unsent = Period.objects.filter(status=Period.Status.CLOSED, statements__status=Statement.Status.ISSUED)
    unsent = _programmes(unsent, programme_ids).annotate(unsent=Count("statements")).select_related("programme")
    for period in unsent.order_by("year", "month", "programme__code")[:LISTED]:
        found.append(
            DueItem(
                kind="send",
                text=ngettext(
                    "%(programme)s: the period %(period)s is closed; %(count)d statement is not sent yet.",
                    "%(programme)s: the period %(period)s is closed; %(count)d statements are not sent yet.",
                    period.unsent,
                )
                % {
                    "programme": period.programme.name,
                    "period": f"{period.year}/{period.month:02d}",
                    "count": period.unsent,
                },
                url=reverse("admin:billing_period_change", args=[period.pk]),
                link_text=_("Send the statements") if may_change else _("The period"),
            )
        )
    return found


def _overdue(programme_ids, today: datetime.date) -> list[DueItem]:
    overdue = _programmes(statements_overdue(today=today), programme_ids, "period__programme_id")
    rows = overdue.values("direction").annotate(count=Count("pk"), yen=Sum("net_amount_yen")).order_by("direction")
    texts = {
        Statement.Direction.STORE_PAYS: lambda count, yen: ngettext(
            "%(count)d invoice past its due date is unpaid: %(yen)s yen to collect.",
            "%(count)d invoices past their due date are unpaid: %(yen)s yen to collect.",
            count,
        ),
        Statement.Direction.STORE_IS_PAID: lambda count, yen: ngettext(
            "%(count)d payment to a store past its due date is not paid out: %(yen)s yen.",
            "%(count)d payments to stores past their due date are not paid out: %(yen)s yen.",
            count,
        ),
    }
    url = reverse("admin:billing_statement_changelist") + "?settlement=overdue"
    found = []
    for row in rows:
        text = texts.get(row["direction"])
        if text is None:
            continue
        found.append(
            DueItem(
                kind="overdue",
                text=text(row["count"], row["yen"]) % {"count": row["count"], "yen": f"{abs(row['yen']):,}"},
                url=url,
                link_text=_("Overdue statements"),
            )
        )
    return found


def _windows(programme_ids, can, today: datetime.date) -> list[DueItem]:
    """Each programme's exchange window open today or opening within WINDOW_AHEAD_DAYS."""
    rules = _programmes(WindowRule.objects.filter(is_active=True), programme_ids).select_related("programme")
    by_programme: dict = defaultdict(list)
    for rule in rules.order_by("programme__code", "first_day", "pk"):
        by_programme[rule.programme].append(rule)
    url = (
        reverse("admin:exchange_desk")
        if can("exchange.add_exchange")
        else reverse("admin:exchange_windowrule_changelist")
    )
    found = []
    for programme, its_rules in by_programme.items():
        window = next(windows_from(programme, today, rules=its_rules), None)
        if window is None or (window.start - today).days > WINDOW_AHEAD_DAYS:
            continue
        values = {
            "programme": programme.name,
            "name": window.rule.name,
            "start": date_format(window.start, "MONTH_DAY_FORMAT"),
            "end": date_format(window.end, "MONTH_DAY_FORMAT"),
        }
        if window.start <= today:
            text = _("%(programme)s: the exchange window “%(name)s” is open until %(end)s.") % values
        else:
            text = _("%(programme)s: the exchange window “%(name)s” opens on %(start)s (until %(end)s).") % values
        found.append(
            DueItem(
                kind="window",
                text=text,
                url=url,
                link_text=_("Exchange desk") if can("exchange.add_exchange") else _("Exchange windows"),
            )
        )
    return found


def _failures(now: datetime.datetime) -> list[DueItem]:
    from django_q.models import Failure

    since = now - datetime.timedelta(days=FAILURES_SINCE_DAYS)
    failed = Failure.objects.filter(stopped__gte=since)
    names = list(failed.order_by("-stopped").values_list("name", flat=True)[:3])
    if not names:
        return []
    count = failed.count()
    text = ngettext(
        "%(count)d background task failed in the last %(days)d days: %(names)s.",
        "%(count)d background tasks failed in the last %(days)d days: %(names)s.",
        count,
    ) % {"count": count, "days": FAILURES_SINCE_DAYS, "names": "、".join(names[:3]) + ("…" if count > 3 else "")}
    return [
        DueItem(
            kind="failures", text=text, url=reverse("admin:django_q_failure_changelist"), link_text=_("Failed tasks")
        )
    ]


# --- campaigns and rallies -------------------------------------------------------------------------------


def _span(promotion, now: datetime.datetime) -> tuple[datetime.date, datetime.date, int]:
    first = timezone.localdate(promotion.starts_at)
    last = timezone.localdate(promotion.ends_at - datetime.timedelta(microseconds=1))
    length = (promotion.ends_at - promotion.starts_at).total_seconds()
    elapsed = (now - promotion.starts_at).total_seconds()
    return first, last, max(0, min(100, int(100 * elapsed // length))) if length > 0 else 100


def _running(model, programme_ids, now: datetime.datetime):
    rows = model.objects.filter(status=model.Status.ACTIVE, starts_at__lte=now, ends_at__gt=now)
    return list(_programmes(rows, programme_ids).select_related("programme").order_by("ends_at", "pk")[:LISTED])


def _campaigns(programme_ids, now: datetime.datetime) -> list[Progress]:
    """Campaigns running now: bonus points given and members who got one (each campaign's bonuses)."""
    campaigns = _running(Campaign, programme_ids, now)
    given = {
        row["campaign_id"]: row
        for row in CampaignApplication.objects.filter(campaign__in=campaigns)
        .values("campaign_id")
        .annotate(members=Count("member_id", distinct=True), points=Sum("points"))
        .order_by()
    }
    found = []
    for campaign in campaigns:
        first, last, elapsed = _span(campaign, now)
        row = given.get(campaign.pk, {"members": 0, "points": 0})
        budget = None
        if campaign.budget_points:
            budget = int(100 * campaign.budget_used // campaign.budget_points)
        found.append(
            Progress(
                kind="campaign",
                name=campaign.name,
                programme=campaign.programme.name,
                url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
                first_day=first,
                last_day=last,
                elapsed_percent=elapsed,
                participants=masked(row["members"], row["members"]),
                points=masked(row["points"], row["members"]),
                budget_percent=budget,
            )
        )
    return found


def _rallies(programme_ids, now: datetime.datetime) -> list[Progress]:
    """Rallies running now: members with a live stamp, the stamps, members who reached a goal."""
    rallies = _running(Rally, programme_ids, now)
    stamps = {
        row["rally_id"]: row
        for row in Stamp.objects.filter(rally__in=rallies, voided_at__isnull=True)
        .values("rally_id")
        .annotate(members=Count("member_id", distinct=True), stamps=Count("pk"))
        .order_by()
    }
    reached = dict(
        GoalReached.objects.filter(goal__rally__in=rallies, revoked_at__isnull=True)
        .values("goal__rally_id")
        .annotate(members=Count("member_id", distinct=True))
        .order_by()
        .values_list("goal__rally_id", "members")
    )
    found = []
    for rally in rallies:
        first, last, elapsed = _span(rally, now)
        row = stamps.get(rally.pk, {"members": 0, "stamps": 0})
        goals = reached.get(rally.pk, 0)
        found.append(
            Progress(
                kind="rally",
                name=rally.name,
                programme=rally.programme.name,
                url=reverse("admin:rallies_rally_change", args=[rally.pk]),
                first_day=first,
                last_day=last,
                elapsed_percent=elapsed,
                participants=masked(row["members"], row["members"]),
                stamps=masked(row["stamps"], row["members"]),
                goals_reached=masked(goals, goals),
            )
        )
    return found
