"""The till's locks on PostgreSQL with real threads."""

import threading
import time

import pytest
from django.db import connections, transaction

from members.models import Card
from points.models import Account
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from points.verification import ledger_problems
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_earn_waiting_on_a_card_that_a_merge_moves_credits_the_card_s_new_member():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    card, target = make_card(), make_card()
    # Both have an account, so the till finds and locks the card with its (old) member's account at once.
    till_buy(card, store, amount_yen=1_000)
    till_buy(target, store, amount_yen=1_000)
    moved = threading.Event()

    def move_card_and_hold_its_lock():
        # What a merge does to the card, holding the lock while the till's earn queues behind it.
        with transaction.atomic():
            Card.objects.select_for_update().get(pk=card.pk)
            Card.objects.filter(pk=card.pk).update(member=target.member)
            moved.set()
            threading.Event().wait(0.5)
        connections.close_all()

    mover = threading.Thread(target=move_card_and_hold_its_lock)
    mover.start()
    assert moved.wait(5)
    began = time.monotonic()
    try:
        receipt = till_buy(card, store, amount_yen=5_000)
    finally:
        mover.join()

    assert time.monotonic() - began >= 0.3
    assert receipt.card.member.pk == target.member.pk
    assert receipt.posting.account.member_id == target.member.pk
    assert Account.objects.get(member=target.member, programme=programme).balance == 10 + 50
    assert Account.objects.get(member=card.member, programme=programme).balance == 10
    assert ledger_problems(deep=True) == []
