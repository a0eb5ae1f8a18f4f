"""The month-end close bills a store for the QR points it funds, as it bills a store-funded campaign's bonus."""

import pytest

from billing.models import Statement, StatementLine
from billing.services import period_close
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from points.models import Funder
from qrpoints.services import qr_scan, store_visit_url
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of

pytestmark = pytest.mark.django_db
Kind = StatementLine.Kind


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def close(settings):
    year, month = this_period(settings)
    return period_close(programme=settings.programme, year=year, month=month, now=after_period(settings, year, month))


def lines(store):
    return {line.kind: line for line in Statement.objects.get(store=store).lines.all()}


def test_the_close_bills_the_funding_store_for_event_and_flyer_points(programme, store, other_store, member):
    settings = BillingSettingsFactory(programme=programme, issue_price_bp=10_000)
    event = QrEventFactory(programme=programme, points=30, funder=Funder.STORE, store=store)
    flyer = FlyerFactory(programme=programme, points=20, funder=Funder.STORE, stores=[other_store])
    # The secretariat's own event: nobody is billed for it.
    treat = QrEventFactory(programme=programme, points=500, funder=Funder.SECRETARIAT, store=None)
    for code in (event, flyer, treat):
        qr_scan(member=member, token=token_of(code))
    qr_scan(member=member, token=store_visit_url(other_store).rsplit("/my/qr/", 1)[1].rstrip("/"))

    result = close(settings)

    assert result.tie_out["ties_out"] is True, result.tie_out
    at_store, at_other = lines(store), lines(other_store)
    assert (at_store[Kind.BONUS_STORE].quantity, at_store[Kind.BONUS_STORE].amount_yen) == (30, 30)
    assert at_store[Kind.BONUS_STORE].description == "キャンペーン加算ポイント（店舗負担）"
    assert (at_other[Kind.BONUS_STORE].quantity, at_other[Kind.BONUS_STORE].amount_yen) == (20, 20)
    assert result.tie_out["ledger_movement_by_kind"]["bonus"] == 550
