"""The members report against the purchases in the ledger: registrations, first visits, active members, visits
per member, the days between visits, dormant members and those who came back."""

import datetime
from decimal import Decimal

import pytest

from analytics.bands import FIRST_VISIT
from analytics.selectors import ReportFilter, members_report
from analytics.tests.helpers import TODAY, buy, member_card, noon, refresh, today_is
from common.privacy import SMALL_GROUP
from points.models import Entry
from stores.selectors import local_midnight

pytestmark = pytest.mark.django_db

D = datetime.date
REGULAR_DAYS = (D(2026, 5, 1), D(2026, 5, 8), D(2026, 5, 15), D(2026, 6, 1))


@pytest.fixture
def visits(programme, store, other_store):
    """Five regulars who registered on 1 May shop on 1, 8 and 15 May and 1 June (at the store, the last at the
    other store); a sixth member shops on 1 March and comes back on 10 June."""
    regulars = [member_card(gender="female", birth_year=1990, registered=noon(D(2026, 5, 1))) for _ in range(5)]
    for card in regulars:
        for day in REGULAR_DAYS:
            buy(card, store if day.month == 5 else other_store, day)
    lapsed = member_card(gender="male")
    buy(lapsed, store, D(2026, 3, 1))
    buy(lapsed, store, D(2026, 6, 10))
    refresh()
    return regulars, lapsed


def report(threshold=90, **changes):
    with today_is():
        return members_report(ReportFilter(start=D(2026, 3, 1), end=TODAY, **changes), threshold=threshold)


def members_with_purchases(first: datetime.date, last: datetime.date) -> int:
    """From the ledger: the members with an earning recorded from `first` to `last`."""
    earns = Entry.objects.filter(
        kind="earn",
        recorded_at__gte=local_midnight(first),
        recorded_at__lt=local_midnight(last + datetime.timedelta(days=1)),
    )
    return earns.values("account__member").distinct().count()


def test_active_members_and_visits_per_member_by_month(visits):
    march, april, may, june = report().rows
    assert may.active == members_with_purchases(D(2026, 5, 1), D(2026, 5, 31)) == 5
    assert june.active == members_with_purchases(D(2026, 6, 1), TODAY) == 6
    assert (may.visits, may.visits_per_member) == (15, Decimal("3.00"))
    assert (june.visits, june.visits_per_member) == (6, Decimal("1.00"))
    assert (march.active, april.active) == (SMALL_GROUP, 0)


def test_first_visits_and_registrations(visits):
    march, _april, may, june = report().rows
    assert (may.new_customers, june.new_customers, march.new_customers) == (5, 0, SMALL_GROUP)
    assert (may.registrations, june.registrations) == (5, 0)


def test_the_days_between_visits(visits):
    result = report()
    bands = {line.band: line.visits for line in result.gaps}
    # 10 visits a week after the previous one, 5 after 17 days, one after 101 days (hidden: one member)
    assert (bands[7], bands[30], bands[180], bands[1]) == (10, 5, SMALL_GROUP, 0)
    assert FIRST_VISIT not in bands
    assert result.weekly_share == Decimal("62.5")  # 10 of 16
    assert result.returning_share == Decimal("93.8")  # 15 of 16


def test_dormant_members_and_those_who_came_back(visits):
    # 30 days without a visit: the sixth member from 31 March until 10 June; the regulars only from 1 July
    march, april, may, june = report(threshold=30).rows
    assert [row.members["dormant"] for row in (march, april, may, june)] == [1, 1, 1, 0]
    assert june.members["returned"] == 1
    assert march.dormant is SMALL_GROUP  # one member
    # 90 days: dormant from 30 May
    assert [row.members["dormant"] for row in report(threshold=90).rows] == [0, 0, 1, 0]


def test_the_regulars_by_their_attributes(visits):
    _march, _april, may, june = report(gender="female", age_band=30).rows
    assert (may.active, may.new_customers, june.active) == (5, 5, 5)
    assert june.returned == 0


def test_a_store_counts_its_own_visits(visits, store, other_store):
    _march, _april, may, june = report(store_ids=frozenset({other_store.pk})).rows
    # the regulars' first visit to the other store is on 1 June
    assert (may.active, june.active, june.new_customers) == (0, 5, 5)
    rows = report(store_ids=frozenset({store.pk}), gender="female").rows
    assert (rows[2].active, rows[2].visits) == (5, 15)


def test_a_store_with_attributes_reads_dormancy_from_the_visits(visits, store):
    plain = report(threshold=30, store_ids=frozenset({store.pk}))
    narrowed = report(threshold=30, store_ids=frozenset({store.pk}), gender="male")
    # the sixth member is the store's only man: the same silence either way
    assert [row.members["dormant"] for row in narrowed.rows] == [1, 1, 1, 0]
    # the regulars left the store for the other one on 1 June: dormant there from 14 June
    assert [row.members["dormant"] for row in plain.rows] == [1, 1, 1, 5]


def test_by_day(visits):
    rows = {row.day: row for row in report(by="day").rows}
    assert rows[D(2026, 5, 8)].active == 5
    assert rows[D(2026, 6, 10)].active is SMALL_GROUP


def test_the_charts_hide_small_groups(visits):
    result = report()
    active = result.activity_chart.series[0]
    assert active.values == [SMALL_GROUP, 0, 5, 6]
    assert result.gaps_chart.labels[0] == "翌日"


def test_a_band_is_shown_when_its_visits_are_five_members_on_different_days(programme, store):
    for n in range(5):
        card = member_card()
        buy(card, store, D(2026, 5, 1 + n))
        buy(card, store, D(2026, 5, 11 + n))
    refresh()

    bands = {line.band: line.visits for line in report().gaps}

    assert bands[14] == 5
