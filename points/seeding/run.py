"""The demo load: a street, its members, and their history, in one transaction."""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from members.models import Card, CardEvent, Consent, Member
from members.services.consents import consents_from_flags_many
from points.models import Account, Entry, Lot, LotUse, Participation
from points.seeding.history import History, plan_members
from points.seeding.ledger import ENTRIES, LOT_USES, LOTS
from points.seeding.loader import Batch, Ids, historic_timestamps
from points.seeding.street import street_get_or_build
from stores.models import Merchant, Store, Terminal

TABLES = [Merchant, Store, Terminal, Participation, Member, Card, CardEvent, Account, Entry, Lot, LotUse]
WRITE_ORDER = [Member, Card, CardEvent, Account, ENTRIES, LOTS, LOT_USES]
MEMBERS_PER_BATCH = 2000
SEED_USERNAME = "seed"


@dataclass
class SeedResult:
    programme: str
    created_street: bool
    stores: int
    terminals: int
    members: int = 0
    registered: int = 0
    cards: int = 0
    replaced: int = 0
    accounts: int = 0
    lots: int = 0
    lot_uses: int = 0
    kinds: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def entries(self) -> int:
        return sum(self.kinds.values())

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def months_before(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def seed_user():
    """The back-office user the seeded adjustments and card replacements name."""
    user, created = get_user_model().objects.get_or_create(
        username=SEED_USERNAME, defaults={"is_staff": False, "first_name": "デモデータ"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def seed_demo(
    *,
    members: int,
    months: int,
    stores: int,
    seed: int = 1,
    now: datetime.datetime | None = None,
    progress: Callable[[SeedResult], None] | None = None,
) -> SeedResult:
    """Add `members` members with `months` of history ending now to the demo street (built on first use).

    Repeatable: a second run adds more members to the same street. The same
    seed on an empty database gives the same street and people.
    """
    started = time.perf_counter()
    now = timezone.localtime(now or timezone.now())
    start = months_before(now.date(), months)
    with transaction.atomic(durable=True), historic_timestamps(Member, Card, CardEvent, Account):
        ids = Ids(TABLES)
        rng = random.Random(f"{seed}:{ids.peek(Member)}:{ids.peek(Entry)}")
        staff = seed_user()
        street = street_get_or_build(rng=rng, ids=ids, stores=stores, opened_before=start)
        result = SeedResult(
            programme=f"{street.programme.name} ({street.programme.code})",
            created_street=street.created,
            stores=len(street.shops),
            terminals=sum(len(shop.terminal_ids) for shop in street.shops),
        )
        history = History(
            rng=rng, ids=ids, programme=street.programme, shops=street.shops, staff_id=staff.pk, start=start, now=now
        )
        plans = plan_members(rng, members)
        for first in range(0, members, MEMBERS_PER_BATCH):
            batch = Batch()
            for plan in plans[first : first + MEMBERS_PER_BATCH]:
                history.member(plan, batch)
            result.accounts += batch.count(Account)
            result.lots += batch.count(LOTS)
            result.lot_uses += batch.count(LOT_USES)
            members_written = batch.instances.get(Member, [])
            batch.write(WRITE_ORDER)
            consents_from_flags_many(members_written, channel=Consent.Channel.IMPORT)
            result.members, result.registered = history.counts["members"], history.counts["registered"]
            result.cards, result.replaced = history.counts["cards"], history.counts["replaced"]
            result.kinds = history.kinds
            result.seconds = time.perf_counter() - started
            if progress:
                progress(result)
        ids.reset_sequences()
    result.seconds = time.perf_counter() - started
    return result
