import pytest
from django.urls import reverse

from members.models import Card, Member
from members.tests.factories import CardFactory, MemberFactory

CHANGELIST = reverse("admin:members_card_changelist")
ADD = reverse("admin:members_card_add")


@pytest.mark.django_db
def test_card_changelist_finds_a_transit_ic_card_by_idm_in_lower_case(admin_client):
    # given
    wanted = CardFactory(card_type=Card.CardType.TRANSIT_IC, number="0123456789ABCDEF")
    CardFactory(card_type=Card.CardType.TRANSIT_IC, number="0123456789ABCDEE")

    # when
    response = admin_client.get(CHANGELIST, {"q": "0123456789abcdef"})

    # then
    assert list(response.context["cl"].result_list) == [wanted]
    assert "…CDEF" in response.content.decode()


@pytest.mark.django_db
def test_card_changelist_never_shows_full_numbers(admin_client):
    # given
    CardFactory(number="1234567890123456")

    # when
    response = admin_client.get(CHANGELIST)

    # then
    content = response.content.decode()
    assert "…3456" in content
    assert "1234567890123456" not in content


@pytest.mark.django_db
def test_adding_a_card_without_a_member_creates_a_provisional_member(admin_client):
    # when
    response = admin_client.post(ADD, {"card_type": Card.CardType.PROGRAMME, "number": "1234-5678-9012-3456"})

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    card = Card.objects.get()
    assert card.number == "1234567890123456"
    assert card.member.status == Member.Status.UNREGISTERED
    assert card.events.get().kind == "created"


@pytest.mark.django_db
def test_adding_a_card_for_a_member(admin_client):
    # given
    member = MemberFactory()

    # when
    response = admin_client.post(
        ADD, {"card_type": Card.CardType.TRANSIT_IC, "number": "0123456789abcdef", "member": member.pk}
    )

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert member.cards.get().number == "0123456789ABCDEF"


@pytest.mark.django_db
def test_adding_a_card_that_exists_is_refused(admin_client):
    # given
    CardFactory(number="1234567890123456")

    # when
    response = admin_client.post(ADD, {"card_type": Card.CardType.PROGRAMME, "number": "1234567890123456"})

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["number"]
    assert Card.objects.count() == 1


@pytest.mark.django_db
def test_the_card_page_masks_the_number_for_staff_without_personal_data_permission(operator_client):
    # given
    card = CardFactory(number="1234567890123456")

    # when
    response = operator_client.get(reverse("admin:members_card_change", args=[card.pk]))

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "…3456" in content
    assert "1234567890123456" not in content


@pytest.mark.django_db
def test_the_card_page_shows_the_number_read_only_to_the_secretariat(admin_client):
    # given
    card = CardFactory(number="1234567890123456")

    # when
    response = admin_client.get(reverse("admin:members_card_change", args=[card.pk]))

    # then
    assert "1234567890123456" in response.content.decode()
    assert 'name="number"' not in response.content.decode()


@pytest.mark.django_db
def test_card_history_can_be_found_by_card_number(admin_client):
    # given
    card = CardFactory(number="1234567890123456")
    CardFactory()

    # when
    response = admin_client.get(reverse("admin:members_cardevent_changelist"), {"q": "1234567890123456"})

    # then
    assert [event.card_id for event in response.context["cl"].result_list] == [card.pk]
