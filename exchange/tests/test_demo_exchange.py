"""The demo command: counters, the window rule and the catalogue, and nothing twice."""

import pytest
from django.core.management import call_command

from exchange.models import Counter, CounterHours, Item, StockMove, WindowRule
from points.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def test_the_demo_desk_is_made_once(capsys):
    ProgrammeFactory()

    call_command("demo_exchange")
    call_command("demo_exchange")

    assert Counter.objects.count() == 2
    assert CounterHours.objects.count() == 10
    assert WindowRule.objects.get().first_day == 1
    assert Item.objects.count() == 5
    assert StockMove.objects.count() == 5
    assert sorted(Item.objects.values_list("stock_on_hand", flat=True)) == [40, 100, 200, 200, 300]
    assert "5 items (0 new)" in capsys.readouterr().out


def test_the_demo_needs_a_programme(db):
    with pytest.raises(Exception, match="seed_demo"):
        call_command("demo_exchange")
