import pytest

from points.tests.factories import ProgrammeFactory
from ranks.models import Rank, RankPolicy


@pytest.fixture
def programme(db):
    # Purchases of past months, as an offline upload would send them.
    return ProgrammeFactory(max_backdate_days=30_000)


@pytest.fixture
def ladder(programme):
    """Regular from 0, Silver from 50,000 yen, Gold from 100,000 yen, in the last 3 months or this year;
    a member below their rank keeps it 30 days."""
    RankPolicy.objects.create(programme=programme, last_months=3, calendar_year=True, downgrade_grace_days=30)
    return {
        name: Rank.objects.create(programme=programme, name=name, threshold_yen=threshold, multiplier_percent=percent)
        for name, threshold, percent in (("レギュラー", 0, 100), ("シルバー", 50_000, 120), ("ゴールド", 100_000, 150))
    }
