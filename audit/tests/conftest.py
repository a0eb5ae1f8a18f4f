import pytest

from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT
from stores.tests.factories import StaffFactory


@pytest.fixture
def secretariat(db):
    return StaffFactory(username="jimukyoku", role=SECRETARIAT)


@pytest.fixture
def secretariat_client(client, secretariat):
    client.force_login(secretariat)
    return client


@pytest.fixture
def operator_client(client, db):
    client.force_login(StaffFactory(username="unyou", role=OPERATOR))
    return client


@pytest.fixture
def auditor_client(client, db):
    client.force_login(StaffFactory(username="kansa", role=AUDITOR))
    return client
