"""`make bench` times the reports at the URLs and with the filters of bench/analytics.py: they must be pages
that answer, or the bench would time error pages."""

import pytest

from analytics.tests.helpers import TODAY, buy, days_ago, member_card, refresh, today_is
from bench.analytics import (
    PAGES,
    REPORTS,
    busiest_store,
    filters,
    logins,
    page_url,
    page_work,
    report_filter,
    report_url,
    selector_work,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def summarised(programme, store):
    card = member_card(gender="female", birth_year=1990)
    buy(card, store, days_ago(40))
    buy(card, store, days_ago(3))
    refresh()


@pytest.mark.parametrize("report", REPORTS)
def test_each_report_the_bench_times_answers_by_selector_html_and_csv(admin_client, programme, summarised, report):
    with today_is():
        for fields in filters(programme.pk, TODAY).values():
            selector_work(report, report_filter(fields))()
            page_work(admin_client, report_url(report, fields))()
            page_work(admin_client, report_url(report, fields, format="csv"))()


def test_every_page_the_bench_times_answers(programme, store, summarised):
    # the superuser's pages, and the merchant portal's as the merchant of the busiest store sees them
    clients = logins(busiest_store())
    assert busiest_store() == store.pk
    assert {page.login for page in PAGES} == {"superuser", "merchant"}
    with today_is():
        chosen = filters(programme.pk, TODAY)
        for page in PAGES:
            page_work(clients[page.login], page_url(page, chosen, store.pk))()


def test_a_page_that_does_not_answer_is_an_error_not_a_figure(admin_client):
    with pytest.raises(RuntimeError, match="HTTP 404"):
        page_work(admin_client, "/admin/analytics/nosuchreport/report/")()
