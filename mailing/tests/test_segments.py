"""Who a mailing reaches: the segment's conditions, the consent that holds now and an e-mail address, counted
in one statement."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailing.selectors import mailing_reach, mailing_recipients, mailing_segment
from mailing.tests.factories import MailingFactory, member_of, next_month, points_expiring, visit, withdraw
from members.models import Consent, Member
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from ranks.models import MemberRank, Rank

pytestmark = pytest.mark.django_db


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_the_reach_counts_the_programmes_members_whose_consent_holds_and_who_have_an_email(programme):
    # Given members of the programme: two who agreed, one who agreed then withdrew, one who never agreed,
    # one who agreed to direct mail only, one without an e-mail address, one suspended; and one who agreed
    # but belongs to another programme only
    reached = [member_of(programme), member_of(programme)]
    withdraw(member_of(programme))
    member_of(programme, consents=())
    member_of(programme, consents=(Consent.Purpose.DIRECT_MAIL,))
    member_of(programme, email="")
    member_of(programme, status=Member.Status.SUSPENDED)
    member_of(ProgrammeFactory(code="OTHER"))
    mailing = MailingFactory(programme=programme)

    # When / then
    assert mailing_reach(mailing) == 2
    assert ids(mailing_recipients(mailing)) == {member.pk for member in reached}


def test_the_reach_is_one_statement(programme):
    for _ in range(3):
        member_of(programme)
    mailing = MailingFactory(
        programme=programme,
        genders=["female"],
        age_min=20,
        age_max=70,
        postal_prefixes=["100"],
        visited_within_days=30,
        expiring_next_month=True,
    )

    with CaptureQueriesContext(connection) as queries:
        mailing_reach(mailing)

    selects = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
    assert len(selects) == 1 and selects[0].startswith("SELECT COUNT(")


def test_genders_and_postal_code_prefixes(programme):
    woman_in_chiyoda = member_of(programme, gender="female", postal_code="100-0001")
    woman_in_chuo = member_of(programme, gender="female", postal_code="104-0061")
    member_of(programme, gender="male", postal_code="100-0001")
    member_of(programme, gender="", postal_code="100-0001")

    assert ids(mailing_segment(MailingFactory(programme=programme, genders=["female"]))) == {
        woman_in_chiyoda.pk,
        woman_in_chuo.pk,
    }
    both = MailingFactory(programme=programme, genders=["female"], postal_prefixes=["1000"])
    assert ids(mailing_segment(both)) == {woman_in_chiyoda.pk}
    two_areas = MailingFactory(programme=programme, genders=["female"], postal_prefixes=["100", "104"])
    assert ids(mailing_segment(two_areas)) == {woman_in_chiyoda.pk, woman_in_chuo.pk}


def test_age_counts_a_year_older_from_the_birth_month_on(programme):
    today = timezone.localdate()
    # Given a member who turns 30 this month, one who turns 30 in the next birth month (29 now), and one of
    # unknown age
    turns_30_now = member_of(programme, birth_year=today.year - 30, birth_month=today.month)
    later_month = today.month % 12 + 1
    # Born in January when it is December: this year's birthday has passed.
    year_of_later = today.year - 30 if later_month > today.month else today.year - 29
    still_29 = member_of(programme, birth_year=year_of_later, birth_month=later_month)
    member_of(programme, birth_year=None, birth_month=None)

    thirties = MailingFactory(programme=programme, age_min=30, age_max=39)
    twenties = MailingFactory(programme=programme, age_min=20, age_max=29)

    assert ids(mailing_segment(thirties)) == {turns_30_now.pk}
    assert ids(mailing_segment(twenties)) == {still_29.pk}


def test_ranks_include_members_without_a_rank_row_at_the_lowest_rank(programme):
    regular = Rank.objects.create(programme=programme, name="レギュラー", threshold_yen=0)
    gold = Rank.objects.create(programme=programme, name="ゴールド", threshold_yen=100_000)
    never_ranked = member_of(programme)
    placed_regular = member_of(programme)
    golden = member_of(programme)
    today = timezone.localdate()
    MemberRank.objects.create(member=placed_regular, programme=programme, rank=regular, since=today)
    MemberRank.objects.create(member=golden, programme=programme, rank=gold, since=today)

    assert ids(mailing_segment(MailingFactory(programme=programme, rank_ids=[gold.pk]))) == {golden.pk}
    assert ids(mailing_segment(MailingFactory(programme=programme, rank_ids=[regular.pk]))) == {
        never_ranked.pk,
        placed_regular.pk,
    }


def test_last_visit_and_stores_visited(programme):
    bakery = join(StoreFactory(name="ひかりベーカリー"), programme)
    books = join(StoreFactory(name="さくら書店"), programme)
    regular = member_of(programme)
    visit(regular, bakery, days_ago=3)
    visit(regular, books, days_ago=200)
    drifted_away = member_of(programme)
    visit(drifted_away, books, days_ago=120)
    never_came = member_of(programme)

    recent = MailingFactory(programme=programme, visited_within_days=30)
    dormant = MailingFactory(programme=programme, not_visited_for_days=90)
    at_books = MailingFactory(programme=programme, store_ids=[books.pk])
    at_bakery_lately = MailingFactory(programme=programme, store_ids=[bakery.pk], visited_within_days=30)

    assert ids(mailing_segment(recent)) == {regular.pk}
    # Dormant: bought before, but not in the last 90 days (a member who never came is not "dormant").
    assert ids(mailing_segment(dormant)) == {drifted_away.pk}
    assert ids(mailing_segment(at_books)) == {regular.pk, drifted_away.pk}
    assert ids(mailing_segment(at_bakery_lately)) == {regular.pk}
    assert never_came.pk not in ids(mailing_segment(at_books))


def test_points_expiring_next_month(programme):
    first = next_month()
    expiring = member_of(programme)
    points_expiring(expiring, programme, 300, first + datetime.timedelta(days=9))
    later = member_of(programme)
    points_expiring(later, programme, 300, first + datetime.timedelta(days=45))
    spent = member_of(programme)
    lot = points_expiring(spent, programme, 300, first)
    type(lot).objects.filter(pk=lot.pk).update(remaining=0)

    mailing = MailingFactory(programme=programme, expiring_next_month=True)

    assert ids(mailing_segment(mailing)) == {expiring.pk}
    assert mailing_reach(mailing) == 1
