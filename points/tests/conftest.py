import pytest

from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card, make_staff


@pytest.fixture
def programme(db):
    return ProgrammeFactory()


@pytest.fixture
def store(programme):
    return join(StoreFactory(), programme)


@pytest.fixture
def other_store(programme):
    return join(StoreFactory(), programme)


@pytest.fixture
def card(programme):
    return make_card()


@pytest.fixture
def staff(db):
    return make_staff()
