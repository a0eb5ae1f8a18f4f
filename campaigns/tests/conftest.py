import pytest

from members.tests.factories import CardFactory, MemberFactory
from points.tests.factories import ProgrammeFactory, StoreFactory, join


@pytest.fixture
def programme(db):
    # The tests buy on fixed days and hours of the past, as a late offline upload would; the programme
    # takes purchases of any age.
    return ProgrammeFactory(max_backdate_days=30_000)


@pytest.fixture
def store(programme):
    return join(StoreFactory(name="ひかりベーカリー"), programme)


@pytest.fixture
def member(db):
    return MemberFactory(gender="female", birth_year=1990, birth_month=5, postal_code="100-0005")


@pytest.fixture
def card(member):
    return CardFactory(member=member)
