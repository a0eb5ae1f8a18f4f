"""How a row reaches its programme (common/scoping.py): through a reverse relation it is found once, however
many ways it reaches the staff's programmes; the whole group sees every row, nobody logged in sees none."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from common.scoping import WHOLE_GROUP, ProgrammeScope, _in_programmes, scope_of_user
from exchange.tests.factories import give_points
from members.models import Card, Member
from points.models import Programme, StaffProgramme
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from stores.models import Merchant, Store
from stores.tests.factories import MerchantFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two():
    return ProgrammeFactory(code="A", name="A"), ProgrammeFactory(code="B", name="B")


def test_a_member_of_both_programmes_is_one_row(two):
    a, b = two
    member = make_card().member
    for programme in two:
        give_points(member, programme, 100)
    make_card()  # a member of no programme

    scope = ProgrammeScope(frozenset({a.pk, b.pk}))

    assert list(scope.filter(Member.objects.all())) == [member]
    assert list(scope.filter(Card.objects.all())) == list(member.cards.all())


def test_a_many_to_many_path_finds_what_the_participations_find(two):
    a, b = two
    merchant = MerchantFactory()
    in_a = join(StoreFactory(merchant=merchant), a)
    join(in_a, b)
    join(StoreFactory(merchant=merchant), b)
    StoreFactory(merchant=MerchantFactory())
    ids = frozenset({a.pk})

    through_participations = Store.objects.filter(_in_programmes(Store, "participation__programme", ids))
    through_many_to_many = Store.objects.filter(_in_programmes(Store, "programmes", ids))

    assert list(through_participations) == list(through_many_to_many) == [in_a]
    assert list(Merchant.objects.filter(_in_programmes(Merchant, "stores__participation__programme", ids))) == [
        merchant
    ]


def test_staff_with_no_programme_work_for_the_whole_group_and_nobody_logged_in_sees_nothing(two):
    a, _b = two
    secretariat = StaffFactory(username="jimukyoku")
    company = StaffFactory(username="hikari")
    StaffProgramme.objects.create(user=company, programme=a)

    assert scope_of_user(secretariat) == WHOLE_GROUP
    assert scope_of_user(company) == ProgrammeScope(frozenset({a.pk}))
    nobody = scope_of_user(AnonymousUser())
    assert nobody.is_scoped and not nobody.filter(Programme.objects.all()).exists()


def test_a_model_that_belongs_to_no_programme_is_hidden_from_staff_of_one(two):
    a, _b = two
    StaffFactory(username="jimukyoku")
    users = get_user_model().objects.all()
    assert ProgrammeScope(frozenset({a.pk})).filter(users).count() == 0
    assert WHOLE_GROUP.filter(users).count() == 1
