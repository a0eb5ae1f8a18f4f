"""The test fixtures most apps' tests share, loaded once for all by `pytest_plugins` in the root conftest.py;
an app's own conftest.py overrides one where its tests need something else (a programme that takes old
purchases, a store with a name)."""

import pytest

from loyalty.roles import AUDITOR, OPERATOR, SECRETARIAT
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card, make_staff
from stores.tests.factories import StaffFactory


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
