"""Windows: the open days of a month under a rule (weekends, national and substitute holidays, short
months), whether a counter is open, and when it opens next."""

import datetime

import pytest

from exchange.tests.factories import CounterFactory, WindowRuleFactory, tokyo
from exchange.windows import is_holiday, is_open, next_opening, window_days, window_on

pytestmark = pytest.mark.django_db

D = datetime.date


def days(*numbers, year=2026, month=5):
    return [D(year, month, n) for n in numbers]


def test_golden_week_and_its_substitute_holiday_are_not_window_days(rule):
    # 2026: 3 May (Sun) Constitution Day, 4-5 May holidays, 6 May (Wed) the substitute holiday.
    assert is_holiday(D(2026, 5, 6))

    assert window_days(rule, 2026, 5) == days(1, 7, 8)


def test_a_substitute_holiday_on_a_monday_is_skipped(programme):
    # 23 November 2025 (Labour Thanksgiving) is a Sunday, so Monday 24 November is a holiday.
    rule = WindowRuleFactory(programme=programme, first_day=20, last_day=30)

    found = window_days(rule, 2025, 11)

    assert D(2025, 11, 24) not in found
    assert found == days(20, 21, 25, 26, 27, 28, year=2025, month=11)


def test_the_national_holiday_between_two_holidays_is_skipped(programme):
    # 22 September 2026 lies between Respect for the Aged Day and the Autumnal Equinox: a holiday.
    rule = WindowRuleFactory(programme=programme, first_day=18, last_day=25)

    assert window_days(rule, 2026, 9) == days(18, 24, 25, month=9)


def test_holidays_count_when_the_rule_does_not_exclude_them(programme):
    rule = WindowRuleFactory(programme=programme, exclude_holidays=False)

    assert window_days(rule, 2026, 5) == days(1, 4, 5, 6, 7, 8)


def test_weekends_count_when_the_rule_allows_them_but_holidays_still_do_not(programme):
    rule = WindowRuleFactory(programme=programme, weekdays_only=False)

    assert window_days(rule, 2026, 5) == days(1, 2, 7, 8, 9, 10)


def test_days_past_the_end_of_a_short_month_are_ignored(programme):
    rule = WindowRuleFactory(programme=programme, first_day=25, last_day=31)

    assert window_days(rule, 2026, 2) == days(25, 26, 27, month=2)
    assert window_days(rule, 2026, 1) == days(26, 27, 28, 29, 30, month=1)


def test_a_rule_beyond_a_short_month_has_no_window_that_month(programme):
    rule = WindowRuleFactory(programme=programme, first_day=29, last_day=31)

    assert window_days(rule, 2026, 2) == []
    assert window_on(programme, D(2026, 2, 27)) is None
    # March 2026: 29 is a Sunday, 30 and 31 are weekdays.
    assert window_on(programme, D(2026, 3, 30)).days == days(30, 31, month=3)


def test_window_on_a_window_day_names_the_window_by_its_first_open_day(rule, programme):
    window = window_on(programme, D(2026, 5, 7))

    assert (window.rule, window.start, window.end) == (rule, D(2026, 5, 1), D(2026, 5, 8))


def test_window_on_a_closed_day_within_the_span_is_none(rule, programme):
    assert window_on(programme, D(2026, 5, 6)) is None
    assert window_on(programme, D(2026, 5, 9)) is None
    assert window_on(programme, D(2026, 5, 11)) is None


def test_an_inactive_rule_opens_no_window(rule, programme):
    rule.is_active = False
    rule.save()

    assert window_on(programme, D(2026, 6, 1)) is None


def test_the_counter_is_open_within_its_hours_on_a_window_day(counter):
    assert is_open(counter, tokyo(2026, 6, 1, 9))
    assert is_open(counter, tokyo(2026, 6, 1, 16, 59))
    assert not is_open(counter, tokyo(2026, 6, 1, 8, 59))
    # Closing time is the first closed minute.
    assert not is_open(counter, tokyo(2026, 6, 1, 17))


def test_the_counter_is_closed_on_a_weekend_or_holiday_within_the_span(counter):
    assert not is_open(counter, tokyo(2026, 5, 6, 10))
    assert not is_open(counter, tokyo(2026, 6, 6, 10))


def test_an_inactive_counter_is_never_open(counter):
    counter.is_active = False
    counter.save()

    assert not is_open(counter, tokyo(2026, 6, 1, 10))


def test_next_opening_is_now_when_open(counter, programme):
    at = tokyo(2026, 6, 1, 10, 30)

    assert next_opening(programme, counter, at) == at


def test_next_opening_skips_golden_week_and_its_substitute_holiday(counter, programme):
    assert next_opening(programme, counter, tokyo(2026, 5, 1, 17, 30)) == tokyo(2026, 5, 7, 9)


def test_next_opening_before_the_opening_hour_is_that_morning(counter, programme):
    assert next_opening(programme, counter, tokyo(2026, 6, 2, 7)) == tokyo(2026, 6, 2, 9)


def test_next_opening_after_the_window_crosses_into_next_month(counter, programme):
    # July 2026: the 1st is a Wednesday.
    assert next_opening(programme, counter, tokyo(2026, 6, 10, 17)) == tokyo(2026, 7, 1, 9)


def test_next_opening_crosses_the_year_end(counter, programme):
    # 1 January is a holiday; Friday 2 January 2026 is not.
    assert next_opening(programme, counter, tokyo(2025, 12, 20, 12)) == tokyo(2026, 1, 2, 9)


def test_next_opening_crosses_a_short_month(programme):
    WindowRuleFactory(programme=programme, first_day=29, last_day=31)
    counter = CounterFactory(programme=programme)

    # No window in February 2026; 29 March is a Sunday.
    assert next_opening(programme, counter, tokyo(2026, 1, 30, 18)) == tokyo(2026, 3, 30, 9)


def test_next_opening_follows_the_counters_own_weekdays(programme, rule):
    # Open Tuesdays and Thursdays only.
    bank = CounterFactory(programme=programme, weekdays=[1, 3], weekdays__opens=datetime.time(9, 30))

    assert next_opening(programme, bank, tokyo(2026, 6, 1, 10)) == tokyo(2026, 6, 2, 9, 30)


def test_next_opening_of_any_counter_is_the_earliest(programme, counter):
    CounterFactory(programme=programme, weekdays=[0], weekdays__opens=datetime.time(8))

    assert next_opening(programme, None, tokyo(2026, 6, 1, 7)) == tokyo(2026, 6, 1, 8)


def test_no_window_rule_means_no_next_opening(programme):
    counter = CounterFactory(programme=programme)

    assert next_opening(programme, counter, tokyo(2026, 6, 1, 10)) is None
    assert not is_open(counter, tokyo(2026, 6, 1, 10))
