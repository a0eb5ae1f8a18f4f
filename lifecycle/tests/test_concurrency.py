"""A merge on PostgreSQL with real threads: a purchase arriving meanwhile waits for it and lands on the
survivor, with its stamp counted among the stamps the merge brought."""

import threading
import time

import pytest
from django.db import connections

from audit.services import audit_record
from coupons.models import Coupon
from lifecycle import services as lifecycle
from members.services import member_register
from points.models import Account, Entry
from points.verification import ledger_problems
from rallies.models import GoalReached, Stamp
from till.tests.helpers import till_buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_purchase_queued_behind_a_merge_lands_on_the_survivor_and_completes_the_goal_once(
    monkeypatch, programme, stores, source, target, rally, coupon_template, staff
):
    member_register(member=target.member, terms_version="v1", personal={"name": "山田 太郎"})
    till_buy(source, stores[0])
    till_buy(target, stores[1])
    merged, survivor = source.member, target.member
    locked = threading.Event()

    def audit_then_hold(**kwargs):
        # The merge has moved everything and holds its locks: the purchase below must wait for its commit.
        event = audit_record(**kwargs)
        locked.set()
        time.sleep(0.5)
        return event

    monkeypatch.setattr(lifecycle, "audit_record", audit_then_hold)
    failures = []

    def merge():
        try:
            lifecycle.member_merge(source=merged, target=survivor, staff=staff)
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    merging = threading.Thread(target=merge)
    merging.start()
    assert locked.wait(10)
    began = time.monotonic()
    receipt = till_buy(source, stores[2], amount_yen=2_000)
    waited = time.monotonic() - began
    merging.join()

    assert failures == []
    assert waited >= 0.3
    assert receipt.posting.account.member_id == survivor.pk
    assert Account.objects.get(member=survivor, programme=programme).balance == 10 + 10 + 20 + 100
    assert Account.objects.get(member=merged, programme=programme).balance == 0
    assert sorted(Stamp.objects.filter(member=survivor).values_list("store_id", flat=True)) == [
        store.pk for store in stores[:3]
    ]
    assert GoalReached.objects.filter(member=survivor, revoked_at__isnull=True).count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1
    assert Coupon.objects.filter(member=merged).count() == 0
    assert ledger_problems(deep=True) == []
