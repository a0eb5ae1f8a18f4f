import pytest

from legacy.tests.helpers import sample_files
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from ranks.models import Rank, RankPolicy


@pytest.fixture
def programme(db):
    """The department store's programme the sample set (docs/legacy-sample/) joins: stores S001 and S002, a
    ladder レギュラー / シルバー / ゴールド."""
    programme = ProgrammeFactory(code="DEPT", name="百貨店ポイント")
    for code in ("S001", "S002"):
        join(StoreFactory(code=code), programme)
    RankPolicy.objects.create(programme=programme, calendar_year=True)
    for name, threshold in (("レギュラー", 0), ("シルバー", 50_000), ("ゴールド", 100_000)):
        Rank.objects.create(programme=programme, name=name, threshold_yen=threshold)
    return programme


@pytest.fixture
def files():
    return sample_files()
