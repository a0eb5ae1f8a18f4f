import pytest

from coupons.models import CouponTemplate
from coupons.tests.factories import CouponTemplateFactory
from exchange.tests.factories import CounterFactory, ItemFactory, WindowRuleFactory, stock
from loyalty.roles import SECRETARIAT
from points.tests.factories import StoreFactory, join, make_card
from rallies.models import Rally
from rallies.tests.factories import RallyFactory, RallyGoalFactory
from stores.tests.factories import StaffFactory


@pytest.fixture
def stores(programme):
    """Four stores of the programme."""
    return [join(StoreFactory(name=f"商店{n}"), programme) for n in range(4)]


@pytest.fixture
def staff(db):
    """Secretariat staff, who may merge, replace cards, withdraw members and cancel exchanges."""
    return StaffFactory(username="jimukyoku", role=SECRETARIAT)


@pytest.fixture
def source(programme):
    """The card of a record to be merged away (an unregistered card holder)."""
    return make_card()


@pytest.fixture
def target(programme):
    """The card of the record that survives."""
    return make_card()


@pytest.fixture
def rally(programme, stores):
    """Stamps at three different stores reach the goal: 100 bonus points. One stamp per store."""
    rally = RallyFactory(programme=programme, store_ids=[store.pk for store in stores], stamp_per=Rally.StampPer.STORE)
    RallyGoalFactory(rally=rally, target=3, bonus_points=100)
    return rally


@pytest.fixture
def coupon_template(programme):
    """A coupon on the first purchase at a store, once per member."""
    return CouponTemplateFactory(
        programme=programme, condition=CouponTemplate.Condition.NTH_PURCHASE_AT_STORE, purchases_needed=1
    )


@pytest.fixture
def counter(programme):
    WindowRuleFactory(programme=programme)
    return CounterFactory(programme=programme)


@pytest.fixture
def item(programme):
    """A 3,000 yen voucher for 2,700 points, 10 in stock."""
    return stock(ItemFactory(programme=programme, price_points=270), 10)
