"""A member's stamps under concurrent earnings, on PostgreSQL with real threads."""

import pytest
from django.utils import timezone

from members.tests.factories import CardFactory
from points.models import Entry
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from rallies.models import GoalReached, Stamp
from rallies.tests.factories import RallyFactory, RallyGoalFactory, buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_member_earning_at_two_stores_at_once_reaches_the_goal_once():
    # given
    programme = ProgrammeFactory()
    stores = [join(StoreFactory(), programme) for _ in range(2)]
    goal = RallyGoalFactory(rally=RallyFactory(programme=programme, store_ids=[s.pk for s in stores]), target=2)
    first = CardFactory()
    # The member's two cards: the card locks do not serialise the tills, the account lock must.
    cards = [first, CardFactory(member=first.member)]
    now = timezone.now()
    # when
    results = run_at_once(2, lambda i: buy(cards[i], stores[i], at=now, key=f"both-{i}"))
    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Stamp.objects.filter(voided_at__isnull=True).count() == 2
    assert GoalReached.objects.filter(goal=goal).count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1
    assert sorted(lines[0]["reached"] for _posting, lines in results) == [[], [goal.name]]
    assert sorted(lines[0]["progress"] for _posting, lines in results) == ["1/2", "2/2"]
    assert not ledger_problems(deep=True)
