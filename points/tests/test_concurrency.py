"""Real threads on PostgreSQL: what two tills at the same moment can and cannot do."""

import contextlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, connections, transaction

from lifecycle.services import member_merge
from points import errors
from points.models import Account, Entry, Lot
from points.services import points_earn, points_spend
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card, make_staff
from points.verification import ledger_problems

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(count, work):
    """Run `work(i)` in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)

    def call(i):
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@pytest.fixture
def setup():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    card = make_card()
    return programme, store, card


def test_concurrent_spends_never_go_below_zero(setup):
    programme, store, card = setup
    points_earn(card=card, store=store, amount_yen=100_000, idempotency_key="seed")  # 1,000 points

    results = run_at_once(16, lambda i: points_spend(card=card, store=store, points=150, idempotency_key=f"spend-{i}"))

    succeeded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, errors.InsufficientPoints)]
    assert (len(succeeded), len(refused)) == (6, 10)
    assert Account.objects.get(programme=programme).balance == 100
    assert ledger_problems(deep=True) == []


def test_concurrent_retries_with_one_key_write_one_entry(setup):
    _programme, store, card = setup

    results = run_at_once(8, lambda i: points_earn(card=card, store=store, amount_yen=5_000, idempotency_key="same"))

    assert not [r for r in results if isinstance(r, Exception)]
    assert Entry.objects.count() == 1
    assert sum(1 for r in results if not r.replayed) == 1


def test_concurrent_earns_and_spends_keep_every_invariant(setup):
    programme, store, card = setup
    points_earn(card=card, store=store, amount_yen=50_000, idempotency_key="seed")

    def work(i):
        if i % 2:
            return points_earn(card=card, store=store, amount_yen=1_000 * i, idempotency_key=f"e{i}")
        return points_spend(card=card, store=store, points=120, idempotency_key=f"s{i}")

    run_at_once(12, work)

    assert ledger_problems(deep=True) == []
    assert Account.objects.get(programme=programme).balance >= 0


def test_first_touch_of_one_new_card_at_two_tills_creates_one_card(setup):
    from members.models import Card
    from members.services import card_get_or_create

    results = run_at_once(6, lambda i: card_get_or_create(number="ABCDEF0123456789", card_type="transit_ic"))

    assert not [r for r in results if isinstance(r, Exception)]
    assert Card.objects.filter(number_last4="6789").count() == 1


def test_merge_while_tills_earn_loses_no_points(setup):
    programme, store, card = setup
    target = make_card()
    staff = make_staff()
    points_earn(card=card, store=store, amount_yen=10_000, idempotency_key="seed")

    def work(i):
        if i == 0:
            return member_merge(source=card.member, target=target.member, staff=staff)
        return points_earn(card=card, store=store, amount_yen=1_000, idempotency_key=f"e{i}")

    results = run_at_once(6, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Account.objects.get(member=target.member, programme=programme).balance == 100 + 5 * 10
    assert ledger_problems(deep=True) == []


@contextlib.contextmanager
def card_moved_under_lock(card, member, *, hold: float = 0.5):
    """What a merge does to a card: in another thread, lock it and move it to `member`, holding the lock for
    `hold` seconds; the block runs meanwhile. Yields a clock that says how long the block waited."""
    from members.models import Card

    moved = threading.Event()

    def move_card_and_hold_its_lock():
        with transaction.atomic():
            Card.objects.select_for_update().get(pk=card.pk)
            Card.objects.filter(pk=card.pk).update(member=member)
            moved.set()
            threading.Event().wait(hold)
        connections.close_all()

    mover = threading.Thread(target=move_card_and_hold_its_lock)
    mover.start()
    assert moved.wait(5)
    began = time.monotonic()
    try:
        yield lambda: time.monotonic() - began
    finally:
        mover.join()


def test_earn_waiting_on_a_card_that_a_merge_moves_credits_the_new_member(setup):
    programme, store, card = setup
    target = make_card()

    with card_moved_under_lock(card, target.member) as waited:
        posting = points_earn(card=card, store=store, amount_yen=1_000, idempotency_key="after-move")
        # The earn queued behind the mover's lock (held for 0.5 s), so it met the moved card after waiting.
        assert waited() >= 0.3
    assert posting.card.member.pk == target.member.pk
    assert Account.objects.get(member=target.member, programme=programme).balance == 10
    assert ledger_problems(deep=True) == []


def test_database_refuses_to_change_or_delete_an_entry(setup):
    _programme, store, card = setup
    entry = points_earn(card=card, store=store, amount_yen=1_000, idempotency_key=str(uuid.uuid4())).entries[0]

    for statement in ("UPDATE points_entry SET points = 1000 WHERE id = %s", "DELETE FROM points_entry WHERE id = %s"):
        with pytest.raises((IntegrityError, InternalError, ProgrammingError), match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [entry.pk])
    assert Entry.objects.get(pk=entry.pk).points == 10


def test_database_refuses_to_change_what_a_lot_is_or_delete_it_but_lets_it_be_spent(setup):
    _programme, store, card = setup
    entry = points_earn(card=card, store=store, amount_yen=1_000, idempotency_key=str(uuid.uuid4())).entries[0]
    lot = Lot.objects.get(entry=entry)

    for statement in (
        "UPDATE points_lot SET points = 11 WHERE id = %s",
        "UPDATE points_lot SET account_id = account_id + 1 WHERE id = %s",
        "UPDATE points_lot SET purchased = TRUE WHERE id = %s",
        "DELETE FROM points_lot WHERE id = %s",
    ):
        with pytest.raises((IntegrityError, InternalError, ProgrammingError), match="may change"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [lot.pk])
    Lot.objects.filter(pk=lot.pk).update(remaining=4)
    assert Lot.objects.values_list("points", "remaining").get(pk=lot.pk) == (10, 4)
