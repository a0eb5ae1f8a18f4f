import pytest

from loyalty.roles import OPERATOR, SECRETARIAT
from members.tests.factories import CardFactory, MemberFactory
from points.tests.factories import StoreFactory, join
from stores.tests.factories import StaffFactory


@pytest.fixture
def stores(programme):
    """Six stores of the programme."""
    return [join(StoreFactory(name=f"商店{n}"), programme) for n in range(6)]


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def card(member):
    return CardFactory(member=member)


@pytest.fixture
def secretariat_client(client, db):
    client.force_login(StaffFactory(username="jimukyoku", role=SECRETARIAT))
    return client


@pytest.fixture
def operator_client(client, db):
    client.force_login(StaffFactory(username="unyou", role=OPERATOR))
    return client
