import pytest

from loyalty.roles import SECRETARIAT
from stores.tests.factories import StaffFactory


@pytest.fixture
def secretariat(db):
    return StaffFactory(username="jimukyoku", role=SECRETARIAT)


@pytest.fixture
def secretariat_client(client, secretariat):
    client.force_login(secretariat)
    return client
