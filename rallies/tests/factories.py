import datetime
import itertools

import factory
from django.db import transaction
from django.utils import timezone

from campaigns.services import campaigns_earn
from points.services import points_void
from points.tests.factories import ProgrammeFactory
from rallies.models import Rally, RallyGoal
from rallies.services import rallies_after_earn, rallies_after_void

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
    """A purchase as the terminal API makes it: the earning, then the rallies, in one transaction.
    Returns the posting and the receipt's rally lines."""
    key = key or f"rally-test-{next(_keys)}"
    at = at or timezone.now()
    with transaction.atomic():
        posting = campaigns_earn(card=card, store=store, amount_yen=amount_yen, idempotency_key=key, occurred_at=at)
        lines = rallies_after_earn(posting=posting, store=store, amount_yen=amount_yen, occurred_at=at)
    return posting, lines


def void(posting, *, refund_amount_yen=None):
    """A void (or a refund) as the terminal API makes it: the ledger's, then the rallies', in one transaction."""
    original = posting.entries[0]
    with transaction.atomic():
        points_void(entry=original, idempotency_key=f"void-{next(_keys)}", refund_amount_yen=refund_amount_yen)
        return rallies_after_void(original_entry=original)
