"""Counters, rules and items of the exchange desk, and points for the members who exchange."""

import datetime
import itertools

import factory

from exchange.models import Counter, CounterHours, Item, WindowRule
from points.models import Programme
from points.services import points_adjust
from points.tests.factories import ProgrammeFactory, make_staff

_keys = itertools.count(1)


class CounterFactory(factory.django.DjangoModelFactory):
    """A counter open Monday to Friday, 9:00 to 17:00."""

    class Meta:
        model = Counter
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"事務局窓口{n}")
    address = "東京都千代田区丸の内1-1-1"
    phone = "03-0000-0000"

    @factory.post_generation
    def weekdays(counter, create, extracted, **kwargs):
        if not create:
            return
        days = range(5) if extracted is None else extracted
        opens, closes = kwargs.get("opens", datetime.time(9)), kwargs.get("closes", datetime.time(17))
        CounterHours.objects.bulk_create(
            CounterHours(counter=counter, weekday=day, opens=opens, closes=closes) for day in days
        )


class WindowRuleFactory(factory.django.DjangoModelFactory):
    """The 1st to the 10th of each month, weekdays only, not on national holidays."""

    class Meta:
        model = WindowRule

    programme = factory.SubFactory(ProgrammeFactory)
    name = "毎月1日〜10日（平日、祝日を除く）"
    first_day = 1
    last_day = 10
    weekdays_only = True
    exclude_holidays = True


class ItemFactory(factory.django.DjangoModelFactory):
    """A 3,000 yen rice voucher for 2,700 points; give it stock with `stock(item, n)`."""

    class Meta:
        model = Item

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"おこめ券{n}")
    face_value_yen = 3000
    price_points = 2700


def stock(item: Item, quantity: int, staff=None) -> Item:
    from exchange.services import stock_receive

    stock_receive(item=item, quantity=quantity, staff=staff or make_staff("stock-clerk"), reason="納品")
    item.refresh_from_db()
    return item


def give_points(member, programme: Programme, points: int):
    """Points for a member, as a manual adjustment (one lot expiring per the programme's rule)."""
    return points_adjust(
        member=member,
        programme=programme,
        points=points,
        reason="テスト用ポイント",
        staff=make_staff("points-clerk"),
        idempotency_key=f"test-points-{next(_keys)}",
    )


def tokyo(*args) -> datetime.datetime:
    """An aware Tokyo time: tokyo(2026, 6, 1, 10) is 1 June 2026 at 10:00."""
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime(*args))
