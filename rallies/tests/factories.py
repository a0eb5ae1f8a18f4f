import datetime
import itertools

import factory
from django.utils import timezone

from points.tests.factories import ProgrammeFactory
from rallies.models import Rally, RallyGoal
from till.services import till_void
from till.tests.helpers import till_buy, till_terminal_of

_keys = itertools.count()


class RallyFactory(factory.django.DjangoModelFactory):
    """An active rally, one stamp per store and day, running from three days ago for a week; pass `store_ids`."""

    class Meta:
        model = Rally

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"スタンプラリー{n}")
    status = Rally.Status.ACTIVE
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))
    ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    store_ids = factory.LazyFunction(list)


class RallyGoalFactory(factory.django.DjangoModelFactory):
    """Stamps at `target` different stores, for 100 bonus points from the secretariat."""

    class Meta:
        model = RallyGoal

    rally = factory.SubFactory(RallyFactory)
    name = factory.Sequence(lambda n: f"達成賞{n}")
    kind = RallyGoal.Kind.DISTINCT_STORES
    target = 5
    reward = RallyGoal.Reward.BONUS
    bonus_points = 100


def buy(card, store, *, amount_yen=1_000, at=None, key=None):
    """A purchase as the terminal API makes it (through the till). Returns the posting and the receipt's rally
    lines."""
    receipt = till_buy(card, store, amount_yen=amount_yen, at=at, key=key or f"rally-test-{next(_keys)}")
    return receipt.posting, receipt.rally


def void(posting, *, refund_amount_yen=None):
    """A void (or a refund) as the terminal API makes it: the ledger's, then the rallies', in one transaction."""
    original = posting.entries[0]
    receipt = till_void(
        terminal=till_terminal_of(original.store),
        original=original,
        idempotency_key=f"void-{next(_keys)}",
        refund_amount_yen=refund_amount_yen,
    )
    return receipt.rally
