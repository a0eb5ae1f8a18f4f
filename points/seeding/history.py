"""Months of life on the street, member by member: visits, purchases, points spent, desk work."""

from __future__ import annotations

import bisect
import datetime
import math
import random
from collections import Counter
from dataclasses import dataclass

from members.models import Card, CardEvent
from points.models import Entry, Programme
from points.seeding import vocabulary as words
from points.seeding.ledger import Book, Expiry
from points.seeding.loader import Batch, Ids
from points.seeding.people import People
from points.seeding.street import Shop
from points.seeding.vocabulary import Trade

DAYS_PER_MONTH = 30.44
HEAVY = 4.0  # visits a month from which a member counts as a regular of the street
RANDOM_VOID = 0.002  # share of purchases cancelled at the till a few minutes later
BUY, ADJUST, REPLACE = 0, 1, 2  # what happens to a member; within one second, in this order


@dataclass(slots=True)
class Plan:
    """Who a member is before anything happens to them."""

    registered: bool
    visits_per_month: float
    joined_before: bool  # a member since before the history starts
    adjust: bool = False
    replace: bool = False
    void_first: bool = False
    spend_last: bool = False


def plan_members(rng: random.Random, count: int) -> list[Plan]:
    """Mostly light shoppers, some regulars, a few who come almost daily; a handful of desk cases."""
    plans = []
    for _ in range(count):
        registered = rng.random() >= 0.15
        kind = rng.random() if registered else 1.0
        if kind < 0.06:
            rate = rng.uniform(HEAVY, 10.0)
        elif kind < 0.34:
            rate = rng.uniform(1.0, 3.0)
        else:
            rate = rng.uniform(0.1, 0.8)
        plans.append(Plan(registered, rate, joined_before=rng.random() < (0.65 if registered else 0.5)))

    def mark(attribute: str, candidates: list[int], wanted: int) -> None:
        for index in rng.sample(candidates, min(wanted, len(candidates))):
            setattr(plans[index], attribute, True)

    regulars = [i for i, p in enumerate(plans) if p.visits_per_month >= HEAVY and p.joined_before] or list(range(count))
    mark("adjust", list(range(count)), max(2, count // 400))
    mark("replace", [i for i, p in enumerate(plans) if p.registered], max(2, count // 150))
    mark("void_first", regulars, max(2, count // 250))
    mark("spend_last", regulars, max(2, count // 200))
    return plans


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Calendar:
    """The days of the history, and how busy each is for each trade."""

    def __init__(self, *, start: datetime.date, now: datetime.datetime):
        self.now = now
        self.days = [start + datetime.timedelta(days=n) for n in range((now.date() - start).days + 1)]
        self.midnights = [datetime.datetime.combine(day, datetime.time(), tzinfo=now.tzinfo) for day in self.days]
        self._weights: dict[Trade, list[float]] = {}

    def _cumulative(self, trade: Trade) -> list[float]:
        found = self._weights.get(trade)
        if found is None:
            total, found = 0.0, []
            for day in self.days:
                total += trade.weekdays[day.weekday()]
                found.append(total)
            self._weights[trade] = found
        return found

    def day(self, rng: random.Random, trade: Trade, first: int) -> int:
        """A day from `first` on, weekends busier, closing days never."""
        weights = self._cumulative(trade)
        low = weights[first - 1] if first else 0.0
        return min(bisect.bisect_right(weights, low + rng.random() * (weights[-1] - low)), len(weights) - 1)

    def office_hours(self, rng: random.Random, first: int, after: datetime.datetime) -> datetime.datetime | None:
        """A weekday moment at the secretariat's desk, or None if the history leaves none."""
        for _attempt in range(20):
            day = rng.randrange(first, len(self.days))
            when = self.midnights[day] + datetime.timedelta(seconds=rng.randrange(10 * 3600, 17 * 3600))
            if self.days[day].weekday() < 5 and after < when < self.now:
                return when
        return None


class History:
    """Writes members, cards and their ledger into a batch, one member's whole story at a time."""

    def __init__(
        self,
        *,
        rng: random.Random,
        ids: Ids,
        programme: Programme,
        shops: list[Shop],
        staff_id: int,
        start: datetime.date,
        now: datetime.datetime,
    ):
        if not shops:
            raise ValueError("the street has no store that accepts points")
        self.rng = rng
        self.ids = ids
        self.programme = programme
        self.shops = shops
        self.staff_id = staff_id
        self.now = now
        self.calendar = Calendar(start=start, now=now)
        self.people = People(rng=rng, ids=ids, now=now)
        self.expiry = Expiry(programme)
        self.footfall: list[float] = []
        total = 0.0
        for shop in shops:
            total += shop.trade.footfall
            self.footfall.append(total)
        self.kinds: Counter = Counter()
        self.counts: Counter = Counter()

    # --- a member's story ---------------------------------------------------------

    def member(self, plan: Plan, batch: Batch) -> None:
        rng = self.rng
        first_day = 0 if plan.joined_before else rng.randrange(len(self.calendar.days))
        visits = self._visits(plan, first_day)
        joined_at = self._joined_at(plan, first_day, visits)
        member = batch.add(self.people.member(registered=plan.registered, joined_at=joined_at))
        self.counts["members"] += 1
        self.counts["registered"] += plan.registered
        cards = self._first_cards(member.id, plan, joined_at, visits, batch)

        events: list[tuple[datetime.datetime, int, Shop | None]] = [(when, BUY, shop) for when, shop in visits]
        for wanted, what in ((plan.adjust, ADJUST), (plan.replace, REPLACE)):
            if wanted and (when := self.calendar.office_hours(rng, first_day, after=joined_at)):
                events.append((when, what, None))
        events.sort(key=lambda event: event[:2])

        book: Book | None = None
        bought = 0
        for when, what, shop in events:
            if what == REPLACE:
                self._replace(member.id, cards, when, batch)
                continue
            if book is None:
                book = Book(
                    member_id=member.id,
                    programme_id=self.programme.id,
                    ids=self.ids,
                    batch=batch,
                    rng=rng,
                    expiry=self.expiry,
                    kinds=self.kinds,
                )
            book.expire_before(when.date())
            if what == ADJUST:
                self._adjust(book, when)
                continue
            bought += 1
            void = (plan.void_first and bought == 1) or rng.random() < RANDOM_VOID
            spend = plan.spend_last and bought == len(visits)
            self._purchase(book, shop, cards, when, force_spend=spend, void=void)
        if book is not None:
            book.expire_before((self.now - datetime.timedelta(minutes=5)).date())

    def _joined_at(self, plan: Plan, first_day: int, visits: list) -> datetime.datetime:
        """When the member (registered or just a card) came into being: before any of their events."""
        rng, midnights = self.rng, self.calendar.midnights
        if plan.joined_before:
            joined_at = midnights[0] - datetime.timedelta(days=rng.randrange(30, 1800))
            joined_at += datetime.timedelta(hours=9, seconds=rng.randrange(9 * 3600))
        elif visits and not plan.registered:
            joined_at = visits[0][0]  # the card was first touched at a till
        else:
            joined_at = midnights[first_day] + datetime.timedelta(hours=9, seconds=rng.randrange(9 * 3600))
            if visits:
                joined_at = min(joined_at, visits[0][0] - datetime.timedelta(minutes=rng.randrange(1, 30)))
        return min(joined_at, self.now - datetime.timedelta(minutes=1))

    def _visits(self, plan: Plan, first_day: int) -> list[tuple[datetime.datetime, Shop]]:
        rng, calendar, shops = self.rng, self.calendar, self.shops
        count = poisson(rng, plan.visits_per_month * (len(calendar.days) - first_day) / DAYS_PER_MONTH)
        if not plan.registered:
            count = max(count, 1)  # an unregistered member exists because a card was touched
        favourites = rng.choices(shops, cum_weights=self.footfall, k=rng.randint(2, 7))
        visits = []
        for _ in range(count):
            shop = rng.choice(favourites) if rng.random() < 0.8 else rng.choices(shops, cum_weights=self.footfall)[0]
            trade = shop.trade
            day = calendar.day(rng, trade, first_day)
            when = calendar.midnights[day] + datetime.timedelta(
                seconds=trade.opens * 3600 + rng.randrange((trade.closes - trade.opens) * 3600)
            )
            if when < self.now:
                visits.append((when, shop))
        visits.sort(key=lambda visit: visit[0])
        return visits

    # --- cards ------------------------------------------------------------------------

    def _first_cards(self, member_id, plan, joined_at, visits, batch) -> list[Card]:
        rng = self.rng
        transit = rng.random() < (0.55 if plan.registered else 0.7)
        types = [Card.CardType.TRANSIT_IC if transit else Card.CardType.PROGRAMME]
        if plan.registered and rng.random() < 0.12:
            types.append(Card.CardType.PROGRAMME if transit else Card.CardType.TRANSIT_IC)
        first_store = visits[0][1].code if visits and not plan.joined_before else rng.choice(self.shops).code
        cards = []
        for card_type in types:
            # A transit card is first seen at a till; a programme card is handed out at the desk.
            store_code = first_store if card_type == Card.CardType.TRANSIT_IC else ""
            card = batch.add(
                self.people.card(member_id=member_id, card_type=card_type, created_at=joined_at, store_code=store_code)
            )
            self._card_event(card, member_id, CardEvent.Kind.CREATED, joined_at, batch)
            cards.append(card)
        return cards

    def _card_event(self, card, member_id, kind, at, batch, *, other=None, staff_id=None, note="") -> None:
        batch.add(
            CardEvent(
                id=self.ids.take(CardEvent),
                card_id=card.id,
                member_id=member_id,
                kind=kind,
                other_card_id=other.id if other else None,
                staff_id=staff_id,
                note=note,
                at=at,
            )
        )
        self.counts["cards"] += kind == CardEvent.Kind.CREATED

    def _replace(self, member_id: int, cards: list[Card], when: datetime.datetime, batch: Batch) -> None:
        """As points.services.card_replace: a new card, the old one replaced, both events logged."""
        old = cards[0]
        card_type = Card.CardType.PROGRAMME if self.rng.random() < 0.6 else Card.CardType.TRANSIT_IC
        new = batch.add(self.people.card(member_id=member_id, card_type=card_type, created_at=when))
        old.status, old.replaced_by_id, old.status_changed_at = Card.Status.REPLACED, new.id, when
        note = self.rng.choice(words.REPLACEMENT_REASONS)
        self._card_event(new, member_id, CardEvent.Kind.CREATED, when, batch, staff_id=self.staff_id)
        self._card_event(
            old, member_id, CardEvent.Kind.REPLACED, when, batch, other=new, staff_id=self.staff_id, note=note
        )
        self._card_event(
            new, member_id, CardEvent.Kind.ATTACHED, when, batch, other=old, staff_id=self.staff_id, note=note
        )
        cards[0] = new
        self.counts["replaced"] += 1

    # --- the ledger ---------------------------------------------------------------------

    def _purchase(self, book: Book, shop: Shop, cards: list[Card], when, *, force_spend: bool, void: bool) -> None:
        """A receipt: points spent first if the member wishes, then points earned on what was paid."""
        rng = self.rng
        trade = shop.trade
        amount = int(trade.amount_low * (trade.amount_high / trade.amount_low) ** rng.random())
        if rng.random() < 0.02:
            amount *= rng.randint(2, 4)
        till = {
            "card_id": (cards[0] if len(cards) == 1 else rng.choice(cards)).id,
            "store_id": shop.id,
            "terminal_id": rng.choice(shop.terminal_ids) if shop.terminal_ids else None,
            "receipt_no": f"{when:%y%m%d}-{rng.randrange(1, 800):04d}",
        }
        spent = self._points_to_spend(book.balance, amount, force=force_spend)
        if spent:
            book.debit(book.entry(kind=Entry.Kind.SPEND, points=-spent, at=when, amount_yen=amount, **till), spent)
        paid = amount - spent
        points = paid * shop.earn_rate_bp // 10_000  # points.services.earn_points_for
        if not points:
            return
        earn = book.entry(kind=Entry.Kind.EARN, points=points, at=when, amount_yen=paid, **till)
        lot = book.credit(earn, points, at=when, store_id=shop.id)
        voided_at = when + datetime.timedelta(minutes=rng.randrange(1, 20))
        if void and voided_at < self.now:
            # As points.services.points_void: the earning's own lot gives the points back first.
            void_id = book.entry(
                kind=Entry.Kind.VOID, points=-points, at=voided_at, amount_yen=paid, reverses_id=earn, **till
            )
            book.debit(void_id, points, first=(lot,))

    def _points_to_spend(self, balance: int, amount: int, *, force: bool) -> int:
        if balance <= 0:
            return 0
        roll = self.rng.random()
        if not (force or (balance >= 500 and roll < 0.3) or (balance >= 100 and roll < 0.05)):
            return 0
        wanted = balance if balance < 100 or self.rng.random() < 0.5 else balance - balance % 100
        return min(wanted, amount)

    def _adjust(self, book: Book, when: datetime.datetime) -> None:
        """As points.services.points_adjust: staff and a reason, a deduction never beyond the balance."""
        rng = self.rng
        if book.balance >= 200 and rng.random() < 0.3:
            points = min(book.balance, rng.choice([50, 100, 150, 200]))
            reason = rng.choice(words.ADJUST_DEBIT_REASONS)
            book.debit(
                book.entry(kind=Entry.Kind.ADJUST, points=-points, at=when, staff_id=self.staff_id, reason=reason),
                points,
            )
            return
        points = rng.choice([100, 200, 300, 500, 1000])
        reason = rng.choice(words.ADJUST_CREDIT_REASONS)
        # Points made good for a purchase are issued by its store; the rest by the secretariat.
        store_id = rng.choice(self.shops).id if reason == words.ADJUST_CREDIT_REASONS[0] else None
        entry = book.entry(
            kind=Entry.Kind.ADJUST, points=points, at=when, staff_id=self.staff_id, reason=reason, store_id=store_id
        )
        book.credit(entry, points, at=when, store_id=store_id)
