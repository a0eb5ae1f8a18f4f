import pytest

from members.tests.factories import CardFactory, MemberFactory
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join
from stores.models import Store


@pytest.fixture
def programme(db):
    # The tests buy up to months ago, as a late offline upload would; the programme takes purchases of any age.
    return ProgrammeFactory(max_backdate_days=30_000)


@pytest.fixture
def store(programme):
    return join(StoreFactory(name="ひかりベーカリー", category=Store.Category.BAKERY), programme)


@pytest.fixture
def other_store(programme):
    return join(StoreFactory(name="みどり書店", category=Store.Category.BOOKSHOP), programme)


@pytest.fixture
def terminal(store):
    return TerminalFactory(store=store)


@pytest.fixture
def card(db):
    return CardFactory(member=MemberFactory())
