import pytest
from django_q.conf import Conf

from points.tests.factories import ProgrammeFactory


@pytest.fixture
def programme(db):
    # Purchases of past months, as an offline upload would send them, make a member's last visit.
    return ProgrammeFactory(max_backdate_days=3_000, secretariat_name="ひかり商店街事務局")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEMBER_SITE_BASE_URL = "https://members.example.jp"


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs each queued task at once, in the test's thread."""
    monkeypatch.setattr(Conf, "SYNC", True)
