"""Closes racing each other, on PostgreSQL with real threads."""

import pytest

from billing.models import DocumentSequence, Period, Statement, StatementFile
from billing.services import period_close
from billing.tests.factories import after_period, earn, this_period
from points.tests.test_concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_closes_at_once_close_the_period_once(billing_settings, store, other_store, card):
    earn(card, store, 10_000)
    earn(card, other_store, 20_000)
    year, month = this_period(billing_settings)
    now = after_period(billing_settings, year, month)

    results = run_at_once(
        2, lambda i: period_close(programme=billing_settings.programme, year=year, month=month, now=now)
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created for r in results) == [False, True]
    assert Period.objects.get().status == Period.Status.CLOSED
    assert (Statement.objects.count(), StatementFile.objects.count()) == (2, 2)
    assert DocumentSequence.objects.get().last_number == 2
