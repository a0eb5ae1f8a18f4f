import pytest

from billing.tests.factories import BillingSettingsFactory, StoreFactory, join
from stores.tests.factories import TerminalFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Issued PDFs go to a throwaway folder, never the developer's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billing_settings(db):
    return BillingSettingsFactory()


@pytest.fixture
def programme(billing_settings):
    return billing_settings.programme


@pytest.fixture
def store(programme):
    store = join(StoreFactory(name="ひかりベーカリー"), programme)
    TerminalFactory(store=store)
    return store


@pytest.fixture
def other_store(programme):
    return join(StoreFactory(name="さくら書店"), programme)
