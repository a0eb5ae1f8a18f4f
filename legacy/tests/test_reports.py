"""Points brought over are kept apart from earnings: the month-end close bills nobody for them, the rank
evaluation does not count them as purchases, and they are owed to members like any other points."""

import datetime

import pytest
from django.utils import timezone

from billing.models import Statement, StatementLine
from billing.services import period_close
from billing.tests.factories import BillingSettingsFactory, after_period, earn, make_card, this_period
from legacy.services import legacy_import
from legacy.tests.helpers import SAMPLE_POINTS, source
from points.models import Participation
from points.selectors import outstanding_points
from ranks.models import MemberRank
from ranks.services import ranks_evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_close_bills_nobody_for_points_brought_over(programme, files):
    # given the programme bills its stores, and an import credited lots issued at S001 and S002
    settings = BillingSettingsFactory(programme=programme)
    s001 = Participation.objects.get(programme=programme, store__code="S001").store
    legacy_import(programme=programme, source=source(files))
    # and a real purchase at S001, to show what is billed
    earn(make_card(), s001, 10_000)
    year, month = this_period(settings)

    # when the month is closed
    result = period_close(programme=programme, year=year, month=month, now=after_period(settings, year, month))

    # then only the purchase is billed as points issued; the import is in the ledger's movement, apart, and the
    # close still ties out
    issued = StatementLine.objects.filter(kind=StatementLine.Kind.POINTS_ISSUED)
    assert [(line.statement.store.code, line.quantity) for line in issued] == [("S001", 100)]
    s002 = Statement.objects.get(store__code="S002")
    assert not s002.lines.filter(kind=StatementLine.Kind.POINTS_ISSUED).exists()
    tie = result.tie_out
    assert tie["statement_points"]["earn"] == 100
    assert tie["ledger_movement_by_kind"]["import"] == SAMPLE_POINTS
    assert tie["ties_out"] is True


def test_points_brought_over_are_owed_by_their_issuing_store(programme, files):
    legacy_import(programme=programme, source=source(files))

    lines, debt = outstanding_points(at=timezone.now() + datetime.timedelta(seconds=1), programme_ids=[programme.pk])

    by_store = {line.store_id: line.points for line in lines}
    s001 = Participation.objects.get(programme=programme, store__code="S001").store_id
    assert by_store[s001] == 1_200 + 2_500
    assert sum(by_store.values()) == SAMPLE_POINTS
    assert debt == 0


def test_points_brought_over_are_not_purchases_for_the_ranks(programme, files):
    # However many points came over, they bought nothing: the member without a rank stays without one.
    legacy_import(programme=programme, source=source(files))

    changes = ranks_evaluate(programme=programme, day=timezone.localdate() + datetime.timedelta(days=1))

    assert changes == []
    assert MemberRank.objects.filter(programme=programme).count() == 2
