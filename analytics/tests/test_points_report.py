"""The points report's figures, read against the ledger: issued, spent, expired, outstanding, the liability in
yen and the breakage rate; the five-member rule; the store and member filters."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from analytics.selectors import ReportFilter, points_report
from analytics.tests.helpers import TODAY, buy, member_card, on, pay, refresh, today_is
from billing.tests.factories import BillingSettingsFactory
from common.privacy import SMALL_GROUP
from points.models import Entry, Lot
from points.services import points_expire_lapsed
from stores.selectors import local_midnight

pytestmark = pytest.mark.django_db

MAY, JUNE = datetime.date(2026, 5, 10), datetime.date(2026, 6, 2)


def ledger(kind: str, first: datetime.date, last: datetime.date, **filters) -> int:
    """The points of a kind recorded from `first` to `last` (both Tokyo days), from the ledger itself."""
    entries = Entry.objects.filter(
        kind=kind,
        recorded_at__gte=local_midnight(first),
        recorded_at__lt=local_midnight(last + datetime.timedelta(days=1)),
        **filters,
    )
    return entries.aggregate(n=Sum("points"))["n"] or 0


@pytest.fixture
def street(programme, store, other_store):
    """Six members buy at the store in May (10 points each), five spend 4 points each at the other store in
    June, and what is left of every lot expires on 6 June."""
    cards = [member_card(gender="female" if n < 5 else "male", birth_year=1990) for n in range(6)]
    for card in cards:
        buy(card, store, MAY)
    for card in cards[:5]:
        pay(card, other_store, JUNE, 4)
    Lot.objects.update(expires_on=datetime.date(2026, 6, 5))
    with on(datetime.date(2026, 6, 6), 1):
        points_expire_lapsed()
    refresh()
    return cards


def report(**changes):
    with today_is():
        return points_report(ReportFilter(start=MAY.replace(day=1), end=TODAY, **changes))


def test_the_months_match_the_ledger(street):
    may, june = report().rows
    month_end = datetime.date(2026, 5, 31)
    assert (may.issued, may.spent, may.expired) == (ledger("earn", MAY.replace(day=1), month_end), 0, 0) == (60, 0, 0)
    assert june.spent == -ledger("spend", datetime.date(2026, 6, 1), TODAY) == 20
    assert june.expired == -ledger("expire", datetime.date(2026, 6, 1), TODAY) == 40
    assert (may.net, june.net) == (60, -60)


def test_the_outstanding_points_are_the_lots_remaining_at_each_end(street):
    BillingSettingsFactory(programme=street[0].member.accounts.get().programme, payback_rate_bp=9_500)

    may, june = report().rows

    # 60 points held at the end of May (57 yen at 0.95 yen a point), none once the rest expired
    assert (may.outstanding, may.liability_yen) == (60, 57)
    assert (june.outstanding, june.liability_yen) == (Lot.objects.aggregate(n=Sum("remaining"))["n"], 0) == (0, 0)


def test_the_breakage_rate_is_what_expired_of_what_left_the_members(street):
    june = report().rows[1]
    assert june.breakage == Decimal("66.7")  # 40 expired of 20 spent + 40 expired


def test_by_day_each_day_is_its_own_row(street):
    rows = {row.day: row for row in report(by="day").rows}
    assert rows[MAY].issued == 60
    assert rows[JUNE].spent == 20
    assert rows[datetime.date(2026, 6, 6)].expired == 40
    assert len(rows) == (TODAY - MAY.replace(day=1)).days + 1


def test_a_group_of_fewer_than_five_members_is_hidden(street):
    # the one man's figures: his purchase and his expiry, and no spend at all
    may, june = report(gender="male").rows
    assert (may.issued, june.expired, june.spent) == (SMALL_GROUP, SMALL_GROUP, 0)
    assert june.breakage is SMALL_GROUP
    # the five women are shown
    may, june = report(gender="female").rows
    assert (may.issued, june.spent) == (50, 20)


def test_outstanding_points_are_not_broken_down_by_members_attributes(street):
    result = report(gender="female")
    assert result.rows[0].outstanding is None
    assert result.outstanding_chart is None
    assert result.notes


def test_a_store_sees_what_was_issued_or_spent_there(street, store, other_store):
    may, june = report(store_ids=frozenset({other_store.pk})).rows
    assert (may.issued, june.spent) == (0, 20)
    may, june = report(store_ids=frozenset({store.pk})).rows
    # expired points count at the store that issued them
    assert (may.issued, june.expired, may.outstanding) == (60, 40, 60)


def test_the_category_and_attributes_together_read_the_finest_grain(street):
    may, _june = report(category="bakery", gender="female", age_band=30).rows
    assert may.issued == 50


def test_another_programmes_figures_are_not_counted(street):
    assert report(programme_ids=frozenset({0})).total.issued == 0


def test_the_chart_draws_each_month_and_hides_small_groups(street):
    result = report(gender="male")
    issued = result.flows_chart.series[0]
    assert result.flows_chart.labels == ["2026/05", "2026/06"]
    assert issued.values == [SMALL_GROUP, 0]
