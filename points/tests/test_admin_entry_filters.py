"""The ledger list (history) filters by the days recorded, the store and the programme."""

import datetime
import re

import pytest
from django.utils import timezone

from points.tests.factories import ProgrammeFactory, join, make_card
from stores.tests.factories import StoreFactory
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db
ENTRIES = "/admin/points/entry/"


@pytest.fixture
def street():
    """Two programmes; three purchases today: two at S1 in programme A, one at S2 in B."""
    first, second = ProgrammeFactory(code="A"), ProgrammeFactory(code="B")
    s1, s2 = join(StoreFactory(code="S1"), first), join(StoreFactory(code="S2"), second)
    card = make_card()
    receipts = [till_buy(card, s1, amount_yen=1_000), till_buy(card, s1, amount_yen=2_000), till_buy(card, s2)]
    return {"A": first, "B": second, "receipts": receipts, "all": {r.posting.entries[0].pk for r in receipts}}


def receipts_listed(client, **params) -> set[int]:
    page = client.get(ENTRIES, params, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    return {int(pk) for pk in re.findall(r"/admin/points/entry/(\d+)/change/", page)}


def test_the_list_filters_by_days_recorded(admin_client, street):
    today = timezone.localdate()
    yesterday, tomorrow = today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)
    today_only = receipts_listed(admin_client, recorded_from=today.isoformat(), recorded_to=today.isoformat())
    assert today_only == street["all"]
    assert receipts_listed(admin_client, recorded_to=yesterday.isoformat()) == set()
    assert receipts_listed(admin_client, recorded_from=tomorrow.isoformat()) == set()


def test_the_list_filters_by_store_code(admin_client, street):
    at_s2 = receipts_listed(admin_client, store_code="S2")
    assert at_s2 == {street["receipts"][2].posting.entries[0].pk}


def test_the_list_filters_by_programme(admin_client, street):
    in_a = receipts_listed(admin_client, account__programme__id__exact=street["A"].pk)
    assert street["receipts"][2].posting.entries[0].pk not in in_a and len(in_a) == 2


def test_days_the_wrong_way_round_are_said_so(admin_client, street):
    page = admin_client.get(
        ENTRIES, {"recorded_from": "2026-12-10", "recorded_to": "2026-12-01"}, HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "開始日が終了日より後になっています。" in page
