"""Random sequences of ledger operations keep every invariant, and no balance goes below zero."""

import datetime
import itertools

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.services import card_replace, member_merge
from points import errors
from points.models import Account, Entry
from points.services import (
    points_adjust,
    points_earn,
    points_expire_lapsed,
    points_spend,
    points_void,
)
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card, make_staff
from points.verification import ledger_problems

pytestmark = pytest.mark.django_db

_keys = itertools.count()
_numbers = itertools.count(0xE000_0000_0000_0000)

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, 2), st.integers(0, 30_000), st.sampled_from([0, 0, 0, 12, 30])),
    st.tuples(st.just("spend"), st.integers(0, 2), st.integers(1, 60), st.just(0)),
    st.tuples(st.just("void"), st.integers(0, 2), st.integers(0, 50), st.integers(0, 3_000)),
    st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-300, 300).filter(bool), st.just(0)),
    st.tuples(st.just("expire"), st.just(0), st.just(0), st.just(0)),
    st.tuples(st.just("replace"), st.integers(0, 2), st.just(0), st.just(0)),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2), st.just(0)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps=st.lists(operation, min_size=3, max_size=30))
def test_random_operations_keep_the_ledger_consistent(steps, db):
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    staff = make_staff()
    cards = [make_card() for _ in range(3)]
    now = timezone.now()

    for name, who, amount, extra in steps:
        card = cards[who]
        key = f"h{next(_keys)}"
        try:
            if name == "earn":
                # Some purchases lie in the past, so that their points have lapsed.
                points_earn(
                    card=card,
                    store=store,
                    amount_yen=amount,
                    idempotency_key=key,
                    occurred_at=now - datetime.timedelta(days=30 * extra),
                )
            elif name == "spend":
                points_spend(card=card, store=store, points=amount, idempotency_key=key)
            elif name == "void":
                purchases = list(Entry.objects.filter(kind__in=["earn", "spend"], account__programme=programme))
                if purchases:
                    target = purchases[amount % len(purchases)]
                    refund = extra if extra and target.amount_yen and extra % 2 else None
                    points_void(entry=target, idempotency_key=key, refund_amount_yen=refund)
            elif name == "adjust":
                points_adjust(member=card.member, programme=programme, points=amount, reason="test", staff=staff)
            elif name == "expire":
                points_expire_lapsed()
            elif name == "replace":
                number = f"{next(_numbers):016X}"
                cards[who] = card_replace(old_card=card, new_number=number, new_card_type="transit_ic", staff=staff)
            elif name == "merge" and who != amount:
                source, target = cards[who], cards[amount]
                if source.member_id != target.member_id:
                    member_merge(source=source.member, target=target.member, staff=staff)
                    cards[who] = make_card(member=target.member)
        except errors.LedgerError:
            pass
        for card_ in cards:
            card_.refresh_from_db()

        assert ledger_problems(deep=True) == []
        assert not Account.objects.filter(balance__lt=0).exists()

    totals = Entry.objects.filter(account__programme=programme).aggregate(n=Sum("points"))["n"] or 0
    accounts = Account.objects.filter(programme=programme)
    assert totals == sum(a.balance - a.debt for a in accounts)
