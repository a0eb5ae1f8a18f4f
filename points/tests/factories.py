import datetime
import itertools

import factory
from django.contrib.auth import get_user_model

from members import services as member_services
from members.models import Card
from points.models import Participation, Programme
from stores.models import Merchant, Store, Terminal

_numbers = itertools.count(1)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    code = factory.Sequence(lambda n: f"M{n:05d}")
    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    invoice_registration_number = factory.Sequence(lambda n: f"T{n:013d}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.Sequence(lambda n: f"テスト商店{n}")
    category = Store.Category.BAKERY
    earn_rate_bp = 100
    contract_start = datetime.date(2024, 4, 1)


class TerminalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Terminal

    store = factory.SubFactory(StoreFactory)
    code = factory.Sequence(lambda n: f"T{n:05d}")


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("code",)

    code = "TEST"
    name = "テスト商店街ポイント"
    expiry_months = 24


def join(store, programme, *, accepts_spend=True):
    Participation.objects.get_or_create(programme=programme, store=store, defaults={"accepts_spend": accepts_spend})
    return store


def make_card(*, member=None, card_type=Card.CardType.TRANSIT_IC) -> Card:
    n = next(_numbers)
    number = f"{n:016X}" if card_type == Card.CardType.TRANSIT_IC else f"{n:016d}"
    return member_services.card_create(number=number, card_type=card_type, member=member)


def make_staff(username="staff"):
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    return user
