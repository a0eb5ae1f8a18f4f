import pytest
from django.contrib.auth.models import Permission

from common import crypto
from members.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_keys():
    # Keys are cached per process; a test that overrides them must not leak its keys into the next.
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


def _user_with(*codenames: str, **kwargs):
    user = UserFactory(**kwargs)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="members", codename__in=codenames))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="secretariat", is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def operator(db):
    """Staff who manage members but may not see personal data."""
    return _user_with(
        "view_member", "change_member", "add_member", "view_card", "add_card", "view_cardevent", username="operator"
    )


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
