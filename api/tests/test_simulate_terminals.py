"""`manage.py simulate_terminals` drives the real API over HTTP and leaves a ledger that verifies."""

import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from api import simulation
from api.simulation.tills import CardPool, Tally, Till
from points.models import Entry
from points.tests.factories import ProgrammeFactory, StoreFactory, TerminalFactory, join, make_card
from points.verification import ledger_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def street():
    """Three participating stores with a terminal each, a suspended one, and members' cards."""
    programme = ProgrammeFactory()
    for _ in range(3):
        TerminalFactory(store=join(StoreFactory(), programme))
    TerminalFactory(store=join(StoreFactory(status="suspended"), programme))
    for _ in range(40):
        make_card()
    return programme


@pytest.fixture
def api_server(live_server):
    """pytest-django's live server on the test database. An in-memory SQLite
    database is one connection that the server's threads share: there its
    requests take turns, as writes to SQLite do anyway."""
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        httpd.set_app(simulation.at_most(1, app))
    yield live_server
    httpd.set_app(app)


def simulate(*args) -> str:
    out = io.StringIO()
    call_command("simulate_terminals", *args, "--force", "--seed", "7", stdout=out)
    return out.getvalue()


def test_simulation_against_a_live_server_writes_entries_and_the_ledger_verifies(street, api_server):
    # when
    output = simulate("--stores", "3", "--minutes", "0.05", "--rate", "4", "--base-url", api_server.url)
    # then
    assert "ledger verified" in output
    assert Entry.objects.filter(terminal__isnull=False).exists()
    assert ledger_problems(deep=True) == []
    assert "earn 201" in output


def test_simulation_serves_the_api_itself_without_a_base_url(street):
    # when
    output = simulate("--stores", "3", "--minutes", "0.03", "--rate", "4")
    # then
    assert "Serving on http://127.0.0.1:" in output
    assert Entry.objects.exists()
    assert ledger_problems(deep=True) == []


def test_only_stores_that_are_active_take_part(street):
    # when
    output = simulate("--stores", "10", "--minutes", "0.01")
    # then
    assert "Only 3 store(s) have active terminals" in output


def test_simulation_refuses_an_address_off_this_machine(street):
    with pytest.raises(CommandError, match="not a loopback address"):
        simulate("--stores", "1", "--minutes", "0.01", "--base-url", "http://192.0.2.10:8000")


def test_simulation_needs_force_when_debug_is_off(street, settings):
    # given
    settings.DEBUG = False
    # when / then
    with pytest.raises(CommandError, match="--force"):
        call_command("simulate_terminals", "--stores", "1", "--minutes", "0.01", stdout=io.StringIO())


class AnswersInTurn:
    """A client that gives these answers, one per request."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def send(self, *args, **kwargs):
        return self.answers.pop(0)


def till_on(client) -> Till:
    return Till("TRM", "secret", client, CardPool(), Tally(), random.Random(1), rate=1.0, deadline=0, run_id="r")


def test_a_replay_that_differs_from_the_lost_answer_fails_the_run():
    # given
    till = till_on(AnswersInTurn(simulation.Answer(201, b'{"balance":10}'), simulation.Answer(201, b'{"balance":20}')))
    # when
    till.write("earn", "/earn", {}, fault="lost_answer")
    # then
    assert till.tally.failures == {"replay of earn differs from the first answer": 1}


def test_a_write_is_retried_with_its_key_until_it_has_a_final_answer():
    # given
    busy = simulation.Answer(409, b'{"error":{"code":"idempotency_in_progress","message":""}}', retry_after=0.01)
    till = till_on(AnswersInTurn(busy, simulation.Answer(201, b"{}")))
    # when
    answer = till.write("earn", "/earn", {})
    # then
    assert answer.status == 201
    assert till.tally.retries == 1
    assert not till.tally.failures


def test_a_server_error_fails_the_run():
    # given
    tally = Tally()
    # when
    tally.answered("earn", simulation.Answer(500, b"boom"))
    # then
    assert tally.failures == {"500 from earn": 1}
