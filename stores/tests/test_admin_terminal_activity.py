"""The terminal changelist tells the secretariat which tills are busy today and which have gone quiet."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.tests.conftest import Till
from points.selectors import terminals_with_transactions_today
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join, make_staff
from stores.selectors import local_day_bounds
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db

TERMINALS = reverse("admin:stores_terminal_changelist")


@pytest.fixture
def till(programme):
    terminal = TerminalFactory(code="TRM-BUSY", store=join(StoreFactory(), programme))
    return Till(Client(), terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


@pytest.fixture
def programme():
    return ProgrammeFactory()


def row_of(page: str, code: str) -> str:
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if f">{code}<" in row]
    assert len(rows) == 1, f"terminal {code} is not listed once"
    return rows[0]


def cell(row: str, field: str) -> str:
    match = re.search(rf'<td class="field-{field}[^"]*">(.*?)</td>', row, re.S)
    assert match, f"the row has no {field} column"
    return match.group(1).strip()


def test_changelist_shows_todays_transactions_of_a_terminal_that_earned(admin_client, till):
    # given: two purchases and a void of one of them
    first = till.earn(number="0123456789ABCDEF", amount=1_000)
    till.earn(number="0123456789ABCDE0", amount=2_000)
    till.void(first.json()["transaction_id"])
    TerminalFactory(code="TRM-IDLE", store=till.terminal.store)
    # when
    page = admin_client.get(TERMINALS).content.decode()
    # then
    assert cell(row_of(page, "TRM-BUSY"), "transactions_today") == "3"
    assert cell(row_of(page, "TRM-IDLE"), "transactions_today") == "0"


def test_changelist_shows_the_last_contact(admin_client, till):
    # given
    till.get("day")
    till.terminal.refresh_from_db()
    # when
    page = admin_client.get(TERMINALS).content.decode()
    # then
    shown = cell(row_of(page, "TRM-BUSY"), "last_seen_at")
    local = timezone.localtime(till.terminal.last_seen_at)
    assert str(local.year) in shown and f"{local.hour}:{local.minute:02d}" in shown


def test_transactions_of_another_day_are_not_counted_today(till):
    # given
    till.earn()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    # when
    terminal = terminals_with_transactions_today(today=tomorrow).get(pk=till.terminal.pk)
    # then
    assert terminal.transactions_today == 0


def test_today_starts_at_midnight_in_tokyo():
    # when
    start, end = local_day_bounds(datetime.date(2026, 4, 1))
    # then
    assert start == datetime.datetime(2026, 3, 31, 15, 0, tzinfo=datetime.UTC)
    assert end - start == datetime.timedelta(days=1)


def test_silent_filter_lists_a_terminal_not_heard_from_and_not_a_busy_one(admin_client, till, settings):
    # given
    settings.TERMINAL_SILENT_AFTER_MINUTES = 60
    TerminalFactory(code="TRM-QUIET", last_seen_at=timezone.now() - datetime.timedelta(hours=2))
    till.earn()
    # when
    page = admin_client.get(TERMINALS, {"silent": "yes"}).content.decode()
    # then
    assert ">TRM-QUIET<" in page
    assert ">TRM-BUSY<" not in page


def test_the_terminal_list_calls_the_name_a_terminal_name(admin_client, till):
    # when
    page = admin_client.get(TERMINALS, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    # then a terminal has a 端末名, not a person's 氏名
    headers = re.findall(r'<th scope="col"[^>]*>.*?</th>', page, re.S)
    assert any("端末名" in header for header in headers)
    assert not any("氏名" in header for header in headers)
