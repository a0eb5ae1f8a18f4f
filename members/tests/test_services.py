import pytest

from members.models import Card, Member
from members.services import CardInUseError, card_attach, member_reinstate, member_suspend
from members.tests.factories import CardFactory, MemberFactory, ProvisionalMemberFactory


@pytest.mark.django_db
def test_suspending_goes_by_the_stored_status_not_a_stale_copy():
    # given a copy loaded while the member was active, then suspended at another desk
    member = MemberFactory()
    stale = Member.objects.get(pk=member.pk)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)

    # when / then
    with pytest.raises(ValueError):
        member_suspend(member=stale, staff=None)


@pytest.mark.django_db
def test_suspend_and_reinstate():
    member = MemberFactory()

    member_suspend(member=member, staff=None)
    assert Member.objects.get(pk=member.pk).status == Member.Status.SUSPENDED

    member_reinstate(member=member, staff=None)
    assert Member.objects.get(pk=member.pk).status == Member.Status.ACTIVE


@pytest.mark.django_db
def test_a_card_held_by_a_provisional_member_is_not_attached_elsewhere():
    # given
    card = CardFactory(member=ProvisionalMemberFactory(), number="1234567890123456")
    member = MemberFactory()

    # when
    with pytest.raises(CardInUseError) as refused:
        card_attach(member=member, number="1234567890123456", card_type=Card.CardType.PROGRAMME, staff=None)

    # then
    assert refused.value.card == card
    assert card.member.pseudonym in str(refused.value)


@pytest.mark.django_db
def test_a_card_cannot_be_attached_to_a_withdrawn_member():
    member = ProvisionalMemberFactory(status=Member.Status.WITHDRAWN)

    with pytest.raises(ValueError):
        card_attach(member=member, number="1234567890123456", card_type=Card.CardType.PROGRAMME, staff=None)
    assert not Card.objects.exists()
