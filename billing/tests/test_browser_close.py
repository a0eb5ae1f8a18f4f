"""The secretariat closes a month in a real browser: from the period list to the close form, and on to
the closed period with its tie-out and its statements.

The close only runs on a period that has ended, and entries made in a test are recorded now; so the
test closes last month, in which the stores under contract owe only their monthly fee. The queue runs
in sync mode, so the close happens within the request that queues it.
"""

import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_q.conf import Conf

from billing.admin.forms import last_ended_period
from billing.models import Period, Statement
from billing.tests.factories import BillingSettingsFactory, StoreFactory, join

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown(text) -> str:
    with translation.override(django_settings.LANGUAGE_CODE):
        return str(gettext(text) if isinstance(text, str) else text)


def test_secretariat_closes_last_month_and_sees_its_statements(page, live_server, admin_login, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)
    billing_settings = BillingSettingsFactory()
    bakery = join(StoreFactory(name="ひかりベーカリー"), billing_settings.programme)
    books = join(StoreFactory(name="さくら書店"), billing_settings.programme)
    year, month = last_ended_period(billing_settings, now=timezone.now())
    admin_login()

    page.goto(f"{live_server.url}/admin/billing/period/")
    page.click("#close-period")
    assert page.input_value("#id_period") == f"{year}-{month:02d}"
    page.click("#billing-form input[type=submit]")

    page.wait_for_selector("#tie-out")
    period = Period.objects.get(programme=billing_settings.programme, year=year, month=month)
    assert period.status == Period.Status.CLOSED
    assert page.inner_text("#ties-out") == shown("Yes")
    assert shown(Period.Status.CLOSED.label) in page.inner_text("#content")
    assert page.locator("meta[http-equiv=refresh]").count() == 0

    with page.expect_navigation():
        page.click(f"a[href$='?period__id__exact={period.pk}']")
    listed = page.inner_text("#result_list")
    for store in (bakery, books):
        assert Statement.objects.get(period=period, store=store).number in listed
        assert store.merchant.name in listed
