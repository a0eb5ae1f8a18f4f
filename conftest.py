import os
import shutil

import pytest
from django.db import connection

# The fixtures most apps' tests share (programme, store, card, staff, the roles' clients).
pytest_plugins = ["loyalty.fixtures"]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STAFF_PASSWORD = "correct-horse-battery-9"


def pytest_collection_modifyitems(config, items):
    # Decided at collection: the database vendor comes from DATABASE_URL.
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...); SQLite ignores row locks")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def _fresh_snapshots():
    """Tests roll back rows that the process-wide copies of campaigns, templates and rallies may hold."""
    from common.snapshots import snapshots_clear

    snapshots_clear()
    yield
    snapshots_clear()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def _playwright():
    if not shutil.which(CHROMIUM):
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message + "; CI requires the browser tests to run")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def _browser(_playwright):
    browser = _playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def page(_browser, live_server):
    """A fresh browser page speaking Japanese, like the secretariat's."""
    context = _browser.new_context(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def admin_login(page, live_server, django_user_model):
    """Log a staff member of a role (the secretariat, 事務局, unless told) in through the real login form."""

    def login(username="jimu", role=None):
        from django.contrib.auth.models import Group

        from loyalty.roles import SECRETARIAT, sync_role_groups

        # Transactional tests flush the groups the migrations made.
        sync_role_groups()
        user = django_user_model.objects.create_user(username=username, password=STAFF_PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role or SECRETARIAT))
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        return user

    return login
