"""Real threads on PostgreSQL, each with its own connection: desks racing for the last items and for one
member's limit."""

import pytest

from exchange import errors
from exchange.models import Exchange, StockMove
from exchange.services import exchange_create, stock_in_ledger
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, give_points
from members.tests.factories import MemberFactory
from points.models import Entry
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_members_at_once_for_the_last_five_items_exactly_five_get_one(counter, item, staff, programme):
    # 10 in stock: a regular takes five first, five remain.
    regular = MemberFactory()
    give_points(regular, programme, 20_000)
    exchange_create(member=regular, counter=counter, lines=[(item, 5)], staff=staff, idempotency_key="first", at=OPEN)
    members = [MemberFactory() for _ in range(20)]
    for member in members:
        give_points(member, programme, 3_000)

    results = run_at_once(
        20,
        lambda i: exchange_create(
            member=members[i], counter=counter, lines=[(item, 1)], staff=staff, idempotency_key=f"desk-{i}", at=OPEN
        ),
    )

    done = [r for r in results if isinstance(r, Exchange)]
    refused = [r for r in results if isinstance(r, errors.OutOfStock)]
    assert (len(done), len(refused)) == (5, 15), results
    assert len({exchange.member_id for exchange in done}) == 5
    item.refresh_from_db()
    assert item.stock_on_hand == 0 == stock_in_ledger(item)
    # The running stock never went below zero.
    running = 0
    for quantity in StockMove.objects.filter(item=item).order_by("pk").values_list("quantity", flat=True):
        running += quantity
        assert running >= 0
    assert Entry.objects.filter(kind=Entry.Kind.EXCHANGE).count() == 6
    # Serials stay gapless under contention.
    assert sorted(Exchange.objects.values_list("serial", flat=True)) == [f"EX-2026-{n:06d}" for n in range(1, 7)]
    assert ledger_problems(deep=True) == []


def test_two_counters_at_once_cannot_exceed_one_members_limit(counter, item, staff, programme, member):
    item.limit_per_member_window = 1
    item.save()
    bank = CounterFactory(programme=programme, name="信用金庫")
    give_points(member, programme, 20_000)
    counters = [counter, bank]

    results = run_at_once(
        2,
        lambda i: exchange_create(
            member=member, counter=counters[i], lines=[(item, 1)], staff=staff, idempotency_key=f"desk-{i}", at=OPEN
        ),
    )

    done = [r for r in results if isinstance(r, Exchange)]
    refused = [r for r in results if isinstance(r, errors.LimitReached)]
    assert (len(done), len(refused)) == (1, 1), results
    assert (refused[0].which, refused[0].left) == ("window", 0)
    assert Exchange.objects.filter(member=member).count() == 1
    item.refresh_from_db()
    assert item.stock_on_hand == 9
    assert ledger_problems(deep=True) == []


def test_a_double_submit_at_once_exchanges_once(counter, item, staff, programme, member):
    give_points(member, programme, 20_000)

    results = run_at_once(
        4,
        lambda i: exchange_create(
            member=member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="same-click", at=OPEN
        ),
    )

    assert all(isinstance(r, Exchange) for r in results), results
    assert {r.pk for r in results} == {Exchange.objects.get().pk}
    item.refresh_from_db()
    assert item.stock_on_hand == 9
    assert Entry.objects.filter(kind=Entry.Kind.EXCHANGE).count() == 1
