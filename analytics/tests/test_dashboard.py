"""The dashboard's figures, read against the ledger: points issued and spent, transactions, purchases and the
members who shopped, today and this month against last month's; the five-member rule; the charts of the
last four weeks; what is due; the campaigns' and rallies' progress; and a bounded number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django_q.models import Failure, Task

from analytics.selectors.dashboard import SECTIONS, Days, dashboard
from analytics.tests.helpers import TODAY, buy, member_card, noon, pay, refresh
from billing.tests.factories import BillingSettingsFactory
from campaigns.tests.factories import CampaignFactory
from common.privacy import SMALL_GROUP
from points.models import Entry
from rallies.tests.factories import RallyFactory
from stores.selectors import local_midnight
from stores.tests.factories import TerminalFactory

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = noon(TODAY, 23)
SAME_DAY_LAST_MONTH, EARLY_JUNE, EARLY_MAY, MID_JUNE = D(2026, 5, 15), D(2026, 6, 3), D(2026, 5, 3), D(2026, 6, 10)


def ledger(kinds, first: datetime.date, last: datetime.date, what: str = "points") -> int:
    entries = Entry.objects.filter(
        kind__in=kinds,
        recorded_at__gte=local_midnight(first),
        recorded_at__lt=local_midnight(last + datetime.timedelta(days=1)),
    )
    if what == "entries":
        return entries.count()
    if what == "amount_yen":
        return entries.aggregate(n=Sum("amount_yen"))["n"] or 0
    return entries.aggregate(n=Sum("points"))["n"] or 0


def shoppers(first: datetime.date, last: datetime.date) -> int:
    return Entry.objects.filter(
        kind="earn",
        recorded_at__gte=local_midnight(first),
        recorded_at__lt=local_midnight(last + datetime.timedelta(days=1)),
    ).aggregate(n=Count("account__member", distinct=True))["n"]


def everything(**changes):
    return dashboard(programme_ids=None, sections=SECTIONS, can=lambda permission: True, now=NOW, **changes)


@pytest.fixture
def street(programme, store, other_store):
    """Seven members buy early in May and early in June; three of them again in mid-June, two on the same day
    last month; six of them buy today, and five of them spend at the other store today."""
    cards = [member_card() for _ in range(7)]
    for n, card in enumerate(cards):
        buy(card, store, EARLY_MAY, amount_yen=1_000 + 100 * n)
        buy(card, store, EARLY_JUNE, amount_yen=2_000 + 100 * n)
    for card in cards[:2]:
        buy(card, store, SAME_DAY_LAST_MONTH, amount_yen=3_000)
    for card in cards[:3]:
        buy(card, store, MID_JUNE)
    for card in cards[:6]:
        buy(card, store, TODAY, amount_yen=1_500, hour=10)
    for card in cards[:5]:
        pay(card, other_store, TODAY, 3)
    refresh(TODAY, first_day=D(2026, 4, 1))
    return cards


def figure(board, key):
    return next(line for line in board.figures if line.key == key)


def test_the_days_compared():
    days = Days.of(D(2026, 3, 31))
    assert days.same_day_last_month == D(2026, 2, 28)
    assert (days.month_start, days.last_month_start, days.last_month_end) == (
        D(2026, 3, 1),
        D(2026, 2, 1),
        D(2026, 2, 28),
    )


def test_the_figures_match_the_ledger(street):
    board = everything()
    issued, spent = figure(board, "issued"), figure(board, "spent")
    issued_kinds = ("earn", "bonus", "purchase")

    assert issued.today == ledger(issued_kinds, TODAY, TODAY) > 0
    assert issued.this_month == ledger(issued_kinds, D(2026, 6, 1), TODAY)
    assert issued.last_month == ledger(issued_kinds, D(2026, 5, 1), D(2026, 5, 31))
    assert issued.last_month_to_date == ledger(issued_kinds, D(2026, 5, 1), SAME_DAY_LAST_MONTH)
    assert spent.today == spent.this_month == -ledger(("spend",), TODAY, TODAY) == 15
    assert spent.last_month == 0

    transactions = figure(board, "transactions")
    assert transactions.today == ledger(("earn", "spend"), TODAY, TODAY, "entries") == 11
    assert transactions.this_month == 7 + 3 + 11
    assert figure(board, "purchases_yen").this_month == ledger(("earn",), D(2026, 6, 1), TODAY, "amount_yen")

    members = figure(board, "members")
    assert members.today == shoppers(TODAY, TODAY) == 6
    assert members.this_month == shoppers(D(2026, 6, 1), TODAY) == 7
    assert members.last_month == shoppers(D(2026, 5, 1), D(2026, 5, 31)) == 7
    assert issued.month_change is not None


def test_figures_about_fewer_than_five_members_are_hidden(street):
    board = everything()

    # two members shopped on the same day last month
    assert figure(board, "members").same_day_last_month is SMALL_GROUP
    assert figure(board, "issued").same_day_last_month is SMALL_GROUP
    assert figure(board, "purchases_yen").same_day_last_month is SMALL_GROUP
    assert figure(board, "issued").today_change is None
    # three members shopped in mid-June: a hatched stub in the chart
    assert str(board.charts[1]).count('class="bar small-group"') == 1


def test_the_charts_draw_the_last_four_weeks(street):
    board = everything()
    points_chart, members_chart = map(str, board.charts)

    assert 'id="dashboard-points-chart"' in points_chart and 'width="440"' in points_chart
    assert "06/15" in points_chart and "05/19" in points_chart
    assert "05/18" not in points_chart
    # early June and today: seven and six members; the other days none (mid-June is hidden)
    assert re.search(r"<title>06/03 [^<:]*: 7\D*</title>", members_chart)
    assert re.search(r"<title>06/15 [^<:]*: 6\D*</title>", members_chart)
    assert re.search(r"<title>06/14 [^<:]*: 0\D*</title>", members_chart)


def test_a_programme_s_staff_read_only_their_programme(street, programme):
    assert (
        figure(
            dashboard(programme_ids=frozenset({programme.pk + 1000}), sections=SECTIONS, can=lambda p: True, now=NOW),
            "issued",
        ).today
        == 0
    )
    assert (
        figure(
            dashboard(programme_ids=frozenset({programme.pk}), sections=SECTIONS, can=lambda p: True, now=NOW), "issued"
        ).today
        > 0
    )


def test_terminals_silent_now(street, store, settings):
    settings.TERMINAL_SILENT_AFTER_MINUTES = 60
    heard = TerminalFactory(store=store)
    heard.last_seen_at = NOW - datetime.timedelta(minutes=5)
    heard.save()
    silent = TerminalFactory(store=store, name="レジ2")
    silent.last_seen_at = NOW - datetime.timedelta(hours=3)
    silent.save()

    board = everything()
    codes = {terminal.code for terminal in board.terminals}
    assert silent.code in codes and heard.code not in codes
    assert board.terminals_silent == len(codes)
    assert board.terminals_url.endswith("?silent=yes")


def test_what_is_due(street, programme):
    BillingSettingsFactory(programme=programme)
    now = NOW
    Failure.objects.get(
        pk=Task.objects.create(
            id="c" * 32, func="math.floor", name="月次締め", started=now, stopped=now, success=False, group="g"
        ).pk
    )

    due = everything().due
    kinds = [item.kind for item in due]
    assert "close" in kinds  # May's period has ended and nobody closed it
    assert "failures" in kinds
    assert any("月次締め" in item.text for item in due)
    # only what the staff member may see
    assert dashboard(programme_ids=None, sections=SECTIONS, can=lambda p: False, now=NOW).due == []


def test_the_campaigns_and_rallies_progress(street, programme, store):
    campaign = CampaignFactory(
        programme=programme, starts_at=noon(D(2026, 6, 1), 0), ends_at=noon(D(2026, 7, 1), 0), budget_points=1_000
    )
    RallyFactory(
        programme=programme, store_ids=[store.pk], starts_at=noon(D(2026, 6, 1), 0), ends_at=noon(D(2026, 7, 1), 0)
    )
    ended = CampaignFactory(programme=programme, starts_at=noon(D(2026, 5, 1), 0), ends_at=noon(D(2026, 5, 31), 0))

    board = everything()
    assert [line.name for line in board.campaigns] == [campaign.name]
    assert ended.name not in [line.name for line in board.campaigns]
    line = board.campaigns[0]
    assert 40 <= line.elapsed_percent <= 55
    assert line.participants == 0 and line.budget_percent == 0
    assert len(board.rallies) == 1


def test_the_queries_are_bounded(street, programme, store):
    BillingSettingsFactory(programme=programme)
    with CaptureQueriesContext(connection) as few:
        everything()
    for n in range(5):
        CampaignFactory(programme=programme, name=f"キャンペーン{n}")
        RallyFactory(programme=programme, store_ids=[store.pk])
        TerminalFactory(store=store)
    with CaptureQueriesContext(connection) as many:
        everything()
    assert len(many) == len(few) <= 20
