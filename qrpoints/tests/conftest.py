import pytest
from django.utils import translation

from members.tests.factories import MemberFactory


@pytest.fixture
def member(db):
    """A registered member signed in on the member site."""
    return MemberFactory()


@pytest.fixture
def japanese():
    """What the member site shows: the messages in Japanese."""
    with translation.override("ja"):
        yield
