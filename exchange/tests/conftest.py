import pytest

from exchange.tests.factories import CounterFactory, ItemFactory, WindowRuleFactory, give_points, stock, tokyo
from loyalty.roles import AUDITOR, SECRETARIAT
from members.tests.factories import MemberFactory
from stores.tests.factories import StaffFactory

# Monday 1 June 2026, 10:00 in Tokyo: within the window of 1-10 June, the counter open.
OPEN = tokyo(2026, 6, 1, 10)


@pytest.fixture
def rule(programme):
    return WindowRuleFactory(programme=programme)


@pytest.fixture
def counter(programme, rule):
    """The secretariat's office: Monday to Friday, 9:00 to 17:00."""
    return CounterFactory(programme=programme, name="事務局窓口")


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def rich_member(member, programme):
    """A member with 20,000 points."""
    give_points(member, programme, 20_000)
    return member


@pytest.fixture
def item(programme):
    """A 3,000 yen rice voucher for 2,700 points, 10 in stock."""
    return stock(ItemFactory(programme=programme, name="おこめ券"), 10)


@pytest.fixture
def staff(db):
    """Secretariat staff: may override windows and cancel exchanges."""
    return StaffFactory(username="jimukyoku", role=SECRETARIAT)


@pytest.fixture
def auditor(db):
    return StaffFactory(username="kansa", role=AUDITOR)


@pytest.fixture
def open_at():
    return OPEN
