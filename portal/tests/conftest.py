import pytest
from django.contrib.auth import get_user_model

from billing.models import Period
from billing.services import period_close, period_send
from billing.tests.factories import BillingSettingsFactory, StoreFactory, after_period, join, make_staff
from stores.models import MerchantUser
from stores.tests.factories import MerchantFactory, TerminalFactory

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Issued PDFs go to a throwaway folder, never the developer's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_merchant_user(merchant, *, username: str, email: str = ""):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, email=email)
    MerchantUser.objects.create(user=user, merchant=merchant)
    return user


def close_and_send(billing_settings, year: int, month: int) -> Period:
    """Close the period as the nightly task would after it ended, and publish it to the portal."""
    result = period_close(
        programme=billing_settings.programme, year=year, month=month, now=after_period(billing_settings, year, month)
    )
    period_send(period=result.period, staff=make_staff())
    return result.period


@pytest.fixture
def billing_settings(db):
    return BillingSettingsFactory()


@pytest.fixture
def programme(billing_settings):
    return billing_settings.programme


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="株式会社ひかり")


@pytest.fixture
def store(merchant, programme):
    store = join(StoreFactory(merchant=merchant, name="ひかりベーカリー"), programme)
    TerminalFactory(store=store, name="レジ1号機")
    return store


@pytest.fixture
def merchant_user(merchant):
    return make_merchant_user(merchant, username="hikari", email="owner@hikari.example.jp")


@pytest.fixture
def portal_client(client, merchant_user):
    client.force_login(merchant_user)
    return client


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(name="株式会社さくら")


@pytest.fixture
def other_store(other_merchant, programme):
    store = join(StoreFactory(merchant=other_merchant, name="さくら書店"), programme)
    TerminalFactory(store=store, name="さくらレジ")
    return store
