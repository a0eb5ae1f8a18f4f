"""A donation through the service, read back from the ledger: the entry, the lots it took (soonest
expiring first), the balance, and what a refusal leaves (nothing)."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from donations import errors
from donations.models import Donation
from donations.tests.factories import OrganisationFactory, donate
from exchange.tests.factories import give_points
from members.models import Member
from points.errors import InsufficientPoints, LedgerError, MemberNotUsable
from points.models import Account, Entry, Lot, LotUse
from points.tests.factories import make_card, make_staff
from points.verification import ledger_problems
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db


def balance(member, programme) -> int:
    return Account.objects.get(member=member, programme=programme).balance


def test_a_member_donates_100_points(rich_member, organisation, programme):
    donation = donate(rich_member, organisation, 100)

    entry = Entry.objects.get(kind=Entry.Kind.DONATION)
    assert (entry.points, entry.account.member_id, entry.reason) == (-100, rich_member.pk, "ひかり子ども食堂")
    assert (donation.entry_id, donation.points, donation.yen, donation.channel) == (entry.pk, 100, 100, "site")
    assert donation.settlement is None
    assert balance(rich_member, programme) == 900
    assert sum(LotUse.objects.filter(entry=entry).values_list("points", flat=True)) == 100
    event = AuditEvent.objects.get(object_type="donations.Donation")
    assert event.detail == {
        "member": rich_member.pseudonym,
        "organisation": organisation.pk,
        "points": 100,
        "channel": "site",
    }
    assert ledger_problems(deep=True) == []


def test_a_donation_takes_the_soonest_expiring_lots_first(member, organisation, programme):
    for points in (300, 200, 100):
        give_points(member, programme, points)
    later, soonest, middle = Lot.objects.filter(account__member=member).order_by("pk")
    today = timezone.localdate()
    Lot.objects.filter(pk=later.pk).update(expires_on=today + datetime.timedelta(days=300))
    Lot.objects.filter(pk=soonest.pk).update(expires_on=today + datetime.timedelta(days=10))
    Lot.objects.filter(pk=middle.pk).update(expires_on=today + datetime.timedelta(days=100))

    donation = donate(member, organisation, 250)

    remaining = dict(Lot.objects.filter(account__member=member).values_list("pk", "remaining"))
    assert remaining == {soonest.pk: 0, middle.pk: 50, later.pk: 300}
    uses = dict(LotUse.objects.filter(entry=donation.entry).values_list("lot_id", "points"))
    assert uses == {soonest.pk: 200, middle.pk: 50}
    assert balance(member, programme) == 350


def test_one_point_is_enough_to_donate(rich_member, organisation, programme):
    donation = donate(rich_member, organisation, 1)

    assert donation.points == 1 and donation.entry.points == -1
    assert balance(rich_member, programme) == 999


def test_more_than_the_balance_is_refused_and_nothing_is_written(rich_member, organisation, programme):
    with pytest.raises(InsufficientPoints) as refused:
        donate(rich_member, organisation, 1_001)

    assert str(refused.value) == "1,001 ポイントを寄付するにはポイントが足りません。残高は 1,000 ポイントです。"
    assert not Donation.objects.exists()
    assert not Entry.objects.filter(kind=Entry.Kind.DONATION).exists()
    assert balance(rich_member, programme) == 1_000
    assert not AuditEvent.objects.filter(object_type="donations.Donation").exists()


@pytest.mark.parametrize("points", [0, -5, 1.5, True, "10"])
def test_anything_but_a_whole_number_from_1_is_refused(rich_member, organisation, points):
    with pytest.raises(errors.InvalidRequest) as refused:
        donate(rich_member, organisation, points)

    assert str(refused.value) == "寄付するポイントは1以上の整数で指定してください。"
    assert not Entry.objects.filter(kind=Entry.Kind.DONATION).exists()


def test_a_retried_key_returns_the_first_donation_and_counts_once(rich_member, organisation, programme):
    first = donate(rich_member, organisation, 100, key="site-7f3a")

    again = donate(rich_member, organisation, 100, key="site-7f3a")

    assert again.pk == first.pk
    assert Donation.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.DONATION).count() == 1
    assert balance(rich_member, programme) == 900


def test_a_key_used_for_another_gift_is_refused(rich_member, organisation, programme):
    donate(rich_member, organisation, 100, key="site-7f3a")

    with pytest.raises(errors.KeyUsedForAnother):
        donate(rich_member, organisation, 200, key="site-7f3a")

    assert balance(rich_member, programme) == 900


@pytest.mark.parametrize(
    "dates",
    [
        {"active_until": datetime.date(2026, 6, 1)},  # ended: the end day is not included
        {"active_from": datetime.date(2026, 6, 2)},  # not yet
    ],
)
def test_an_organisation_outside_its_period_is_refused(rich_member, programme, billing_settings, dates):
    organisation = OrganisationFactory(programme=programme, name="災害義援金", **dates)
    at = datetime.datetime(2026, 6, 1, 12, tzinfo=timezone.get_default_timezone())

    with pytest.raises(errors.OrganisationNotAccepting) as refused:
        donate(rich_member, organisation, 100, at=at)

    assert str(refused.value) == "「災害義援金」は現在、寄付を受け付けていません。"
    assert not Entry.objects.filter(kind=Entry.Kind.DONATION).exists()
    assert balance(rich_member, programme) == 1_000


def test_an_organisation_takes_donations_on_its_first_day_and_until_the_day_before_its_end(
    rich_member, programme, billing_settings
):
    organisation = OrganisationFactory(
        programme=programme, active_from=datetime.date(2026, 6, 1), active_until=datetime.date(2026, 7, 1)
    )
    zone = timezone.get_default_timezone()

    donate(rich_member, organisation, 10, at=datetime.datetime(2026, 6, 1, 0, 0, tzinfo=zone))
    donate(rich_member, organisation, 10, at=datetime.datetime(2026, 6, 30, 23, 59, tzinfo=zone))

    assert Donation.objects.count() == 2


def test_a_companys_own_points_are_not_donated(programme, store, organisation):
    # 100 points for the whole programme, 500 of the department store's own campaign
    CampaignFactory(
        programme=programme,
        name="百貨店の日",
        kind=Campaign.Kind.FIXED,
        fixed_points=500,
        store_ids=[store.pk],
        usable_only_at=store.merchant,
    )
    card = make_card()
    till_buy(card, store, amount_yen=10_000)
    member = card.member
    assert balance(member, programme) == 600

    with pytest.raises(InsufficientPoints) as refused:
        donate(member, organisation, 300)
    assert str(refused.value) == (
        "寄付できるポイントが足りません。残高 600 ポイントのうち、寄付できるのは 100 ポイントです。"
    )

    donation = donate(member, organisation, 100)
    assert set(LotUse.objects.filter(entry=donation.entry).values_list("lot__merchant", flat=True)) == {None}
    assert Lot.objects.get(account__member=member, merchant=store.merchant).remaining == 500
    assert balance(member, programme) == 500


def test_lapsed_points_expire_before_a_donation_and_are_not_donated(member, organisation, programme):
    give_points(member, programme, 300)
    give_points(member, programme, 100)
    lapsed, fresh = Lot.objects.filter(account__member=member).order_by("pk")
    Lot.objects.filter(pk=lapsed.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))

    with pytest.raises(InsufficientPoints):
        donate(member, organisation, 150)
    donation = donate(member, organisation, 100)

    assert Entry.objects.get(kind=Entry.Kind.EXPIRE).points == -300
    assert list(LotUse.objects.filter(entry=donation.entry).values_list("lot_id", "points")) == [(fresh.pk, 100)]
    assert balance(member, programme) == 0
    assert ledger_problems(deep=True) == []


def test_a_suspended_member_cannot_donate(rich_member, organisation):
    Member.objects.filter(pk=rich_member.pk).update(status=Member.Status.SUSPENDED)

    with pytest.raises(MemberNotUsable):
        donate(rich_member, organisation, 100)

    assert not Donation.objects.exists()


def test_a_desk_donation_names_its_staff_member(rich_member, organisation):
    with pytest.raises(LedgerError):
        donate(rich_member, organisation, 100, channel=Donation.Channel.DESK)

    clerk = make_staff("madoguchi")
    donation = donate(rich_member, organisation, 100, channel=Donation.Channel.DESK, staff=clerk)

    assert (donation.staff, donation.entry.staff) == (clerk, clerk)
    assert AuditEvent.objects.get(object_type="donations.Donation").actor == clerk


def test_an_unknown_channel_or_an_empty_key_is_refused(rich_member, organisation):
    with pytest.raises(errors.InvalidRequest):
        donate(rich_member, organisation, 100, channel="fax")
    with pytest.raises(errors.InvalidRequest):
        donate(rich_member, organisation, 100, key="   ")

    assert not Donation.objects.exists()
