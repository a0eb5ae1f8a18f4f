import itertools

import factory
from django.contrib.auth import get_user_model
from django.db import connection

from members import services as member_services
from members.models import Card
from points.models import Participation, Programme
from stores.tests.factories import MerchantFactory, StoreFactory, TerminalFactory  # noqa: F401 (re-exported)

_numbers = itertools.count(1)


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


def trigger_disabled(table: str, trigger: str) -> None:
    """On PostgreSQL, switch a guarding trigger off for the rest of the test's transaction, as only someone
    bypassing it could, to damage the ledger on purpose."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check may be pending for ALTER TABLE
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
