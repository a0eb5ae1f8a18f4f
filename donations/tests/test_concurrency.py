"""Real threads on PostgreSQL, each with its own connection: donations racing for one account's points,
and one request sent twice at once."""

import pytest

from billing.tests.factories import BillingSettingsFactory
from donations.models import Donation
from donations.tests.factories import OrganisationFactory, donate
from exchange.tests.factories import give_points
from members.tests.factories import MemberFactory
from points.errors import InsufficientPoints
from points.models import Account, Entry
from points.tests.factories import ProgrammeFactory
from points.tests.test_concurrency import run_at_once
from points.verification import ledger_problems

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    programme = ProgrammeFactory()
    BillingSettingsFactory(programme=programme)
    kitchen = OrganisationFactory(programme=programme, name="ひかり子ども食堂")
    fund = OrganisationFactory(programme=programme, name="さくら災害義援金")
    member = MemberFactory()
    give_points(member, programme, 1_000)
    return programme, member, [kitchen, fund]


def test_two_donations_at_once_never_overdraw_the_account(setup):
    programme, member, organisations = setup

    results = run_at_once(2, lambda i: donate(member, organisations[i], 600, key=f"race-{i}"))

    done = [r for r in results if isinstance(r, Donation)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert (len(done), len(refused)) == (1, 1), results
    assert Account.objects.get(member=member, programme=programme).balance == 400
    assert list(Entry.objects.filter(kind=Entry.Kind.DONATION).values_list("points", flat=True)) == [-600]
    assert ledger_problems(deep=True) == []


def test_many_donations_at_once_take_exactly_the_balance(setup):
    programme, member, organisations = setup

    results = run_at_once(8, lambda i: donate(member, organisations[i % 2], 150, key=f"many-{i}"))

    done = [r for r in results if isinstance(r, Donation)]
    assert len(done) == 6 and all(isinstance(r, (Donation, InsufficientPoints)) for r in results), results
    assert Account.objects.get(member=member, programme=programme).balance == 100
    assert ledger_problems(deep=True) == []


def test_one_request_sent_twice_at_once_donates_once(setup):
    programme, member, organisations = setup

    results = run_at_once(4, lambda i: donate(member, organisations[0], 100, key="same-tap"))

    assert all(isinstance(r, Donation) for r in results), results
    assert {r.pk for r in results} == {Donation.objects.get().pk}
    assert Account.objects.get(member=member, programme=programme).balance == 900
    assert Entry.objects.filter(kind=Entry.Kind.DONATION).count() == 1
