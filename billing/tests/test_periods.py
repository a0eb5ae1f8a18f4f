import datetime

import pytest

from billing.periods import due_date, parse_period, period_bounds, period_containing, period_dates

D = datetime.date


def test_a_month_end_period_is_the_calendar_month():
    assert period_dates(year=2026, month=2, closing_day=0) == (D(2026, 2, 1), D(2026, 3, 1))


def test_a_period_closing_on_the_20th_runs_from_the_21st_of_the_month_before():
    assert period_dates(year=2026, month=10, closing_day=20) == (D(2026, 9, 21), D(2026, 10, 21))


def test_the_january_period_starts_in_december():
    assert period_dates(year=2027, month=1, closing_day=25) == (D(2026, 12, 26), D(2027, 1, 26))


def test_period_bounds_are_midnight_in_tokyo():
    start, end = period_bounds(year=2026, month=10, closing_day=0)
    assert (start.isoformat(), end.isoformat()) == ("2026-10-01T00:00:00+09:00", "2026-11-01T00:00:00+09:00")


@pytest.mark.parametrize(
    ("day", "closing_day", "period"),
    [
        (D(2026, 10, 20), 20, (2026, 10)),
        (D(2026, 10, 21), 20, (2026, 11)),
        (D(2026, 12, 31), 20, (2027, 1)),
        (D(2026, 12, 31), 0, (2026, 12)),
    ],
)
def test_period_containing_a_day(day, closing_day, period):
    assert period_containing(day, closing_day=closing_day) == period


def test_due_at_the_end_of_the_next_month():
    assert due_date(year=2026, month=1, due_months=1, due_day=0) == D(2026, 2, 28)


def test_due_on_a_day_of_the_month_after_next_across_the_year_end():
    assert due_date(year=2026, month=11, due_months=2, due_day=10) == D(2027, 1, 10)


@pytest.mark.parametrize("text", ["2026-13", "2026", "26-10", "2026/10", "abcd-10", ""])
def test_parse_period_refuses_what_is_not_a_month(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_parse_period():
    assert parse_period(" 2026-10 ") == (2026, 10)
