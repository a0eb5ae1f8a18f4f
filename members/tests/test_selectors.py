import pytest

from members.models import Card
from members.selectors import card_search, member_search
from members.tests.factories import CardFactory, MemberFactory, ProvisionalMemberFactory


@pytest.fixture
def hanako(db):
    return MemberFactory(
        name="佐藤 花子", name_kana="サトウ ハナコ", phone="090-1234-5678", email="Hanako.Sato@Example.jp"
    )


@pytest.fixture
def someone_else(db):
    return MemberFactory(name="鈴木 一郎", name_kana="スズキ イチロウ", phone="03-9876-5432", email="ichiro@example.jp")


def found(query: str) -> list[int]:
    return list(member_search(query=query).values_list("pk", flat=True))


@pytest.mark.parametrize("query", ["090-1234-5678", "09012345678", " 090 1234 5678 ", "０９０－１２３４－５６７８"])
def test_finds_a_member_by_phone_with_or_without_hyphens(hanako, someone_else, query):
    assert found(query) == [hanako.pk]


@pytest.mark.parametrize("query", ["さとう はなこ", "サトウハナコ", "ｻﾄｳ ﾊﾅｺ"])
def test_finds_a_member_by_kana_in_hiragana_katakana_or_half_width(hanako, someone_else, query):
    assert found(query) == [hanako.pk]


@pytest.mark.parametrize("query", ["佐藤 花子", "佐藤花子", "佐藤　花子"])
def test_finds_a_member_by_name_whatever_the_spaces(hanako, someone_else, query):
    assert found(query) == [hanako.pk]


@pytest.mark.parametrize("query", ["hanako.sato@example.jp", "HANAKO.SATO@EXAMPLE.JP"])
def test_finds_a_member_by_email_in_any_case(hanako, someone_else, query):
    assert found(query) == [hanako.pk]


def test_finds_the_holder_of_a_transit_ic_card_by_idm_in_lower_case(hanako, someone_else):
    # given
    CardFactory(member=hanako, card_type=Card.CardType.TRANSIT_IC, number="0123456789ABCDEF")

    # when / then
    assert found("0123456789abcdef") == [hanako.pk]


@pytest.mark.parametrize("query", ["1234567890123456", "1234-5678-9012-3456", "1234 5678 9012 3456"])
def test_finds_the_holder_of_a_programme_card_by_its_number(hanako, someone_else, query):
    # given
    CardFactory(member=hanako, number="1234567890123456")

    # when / then
    assert found(query) == [hanako.pk]


def test_finds_a_provisional_member_by_the_card_first_seen_at_a_till(db):
    # given
    card = CardFactory(member=ProvisionalMemberFactory(), card_type=Card.CardType.MOBILE, number="qr-token-0001")

    # when / then
    assert found("qr-token-0001") == [card.member_id]


def test_finds_a_member_by_pseudonym_typed_in_lower_case(hanako, someone_else):
    assert found(hanako.pseudonym.lower()) == [hanako.pk]


@pytest.mark.parametrize("query", ["090-1234", "佐藤", "hanako", "5678", ""])
def test_parts_of_a_value_match_nothing(hanako, query):
    assert found(query) == []


def test_search_is_two_indexed_queries_at_most(hanako, django_assert_max_num_queries):
    # given
    CardFactory(member=hanako, number="1234567890123456")

    # when / then: one for the cards, one for the members; nothing is decrypted to filter
    with django_assert_max_num_queries(2):
        assert found("1234567890123456") == [hanako.pk]


def test_card_search_finds_a_card_by_idm_or_by_its_holder(hanako):
    # given
    card = CardFactory(member=hanako, card_type=Card.CardType.TRANSIT_IC, number="0123456789ABCDEF")
    CardFactory()

    # when / then
    assert list(card_search(query="01 23 45 67 89 ab cd ef")) == [card]
    assert list(card_search(query=hanako.pseudonym)) == [card]
