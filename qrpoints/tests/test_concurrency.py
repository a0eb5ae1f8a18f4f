"""Claims at the same moment, on PostgreSQL with real threads: the cap holds, and a member is credited once."""

import pytest

from members.tests.factories import MemberFactory
from points.models import Entry
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems
from qrpoints.models import FlyerRight, QrClaim, QrEvent
from qrpoints.services import Outcome, qr_scan, store_visit_url
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twelve_members_claiming_an_event_of_five_at_once_credit_exactly_five():
    # Given an event for at most five members, and twelve members at the poster
    programme = ProgrammeFactory()
    event = QrEventFactory(programme=programme, points=100, max_claims=5)
    members = [MemberFactory() for _ in range(12)]
    token = token_of(event)

    # When they all scan at once
    results = run_at_once(12, lambda i: qr_scan(member=members[i], token=token))

    # Then five are credited, seven are told it is full, and the ledger agrees
    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(result.outcome for result in results) == sorted([Outcome.CREDITED] * 5 + [Outcome.FULL] * 7)
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 5
    assert QrClaim.objects.count() == 5
    assert QrEvent.objects.get(pk=event.pk).claims_count == 5
    assert ledger_problems(deep=True) == []


def test_one_member_scanning_an_event_on_two_phones_at_once_is_credited_once():
    programme = ProgrammeFactory()
    event = QrEventFactory(programme=programme, points=100, max_claims=50)
    member = MemberFactory()
    token = token_of(event)

    results = run_at_once(4, lambda i: qr_scan(member=member, token=token))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(result.outcome for result in results) == sorted([Outcome.CREDITED] + [Outcome.ALREADY] * 3)
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1
    assert QrEvent.objects.get(pk=event.pk).claims_count == 1
    assert ledger_problems(deep=True) == []


def test_a_flyer_capped_at_three_gives_three_rights_to_ten_members_at_once():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    flyer = FlyerFactory(programme=programme, max_claims=3, stores=[store])
    members = [MemberFactory() for _ in range(10)]
    token = token_of(flyer)

    results = run_at_once(10, lambda i: qr_scan(member=members[i], token=token))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert [result.outcome for result in results].count(Outcome.RIGHT_TAKEN) == 3
    assert FlyerRight.objects.count() == 3


def test_one_member_scanning_the_store_code_twice_at_once_is_credited_once():
    programme = ProgrammeFactory()
    store = join(StoreFactory(), programme)
    flyer = FlyerFactory(programme=programme, points=40, stores=[store])
    member = MemberFactory()
    qr_scan(member=member, token=token_of(flyer))
    visit = store_visit_url(store).rsplit("/my/qr/", 1)[1].rstrip("/")

    results = run_at_once(3, lambda i: qr_scan(member=member, token=visit))

    assert not [result for result in results if isinstance(result, Exception)], results
    assert sum(result.points for result in results) == 40
    assert Entry.objects.filter(kind=Entry.Kind.BONUS).count() == 1
    assert ledger_problems(deep=True) == []
