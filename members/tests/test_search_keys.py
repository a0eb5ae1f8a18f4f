import pytest

from members.models import Card, Member
from members.selectors import member_search
from members.services import card_create, member_register

pytestmark = pytest.mark.django_db


def test_mobile_tokens_differing_only_in_case_or_hyphen_are_different_cards():
    first = card_create(number="AbCd-1234", card_type=Card.CardType.MOBILE)
    second = card_create(number="abcd1234", card_type=Card.CardType.MOBILE)

    assert first.number_bidx != second.number_bidx
    assert list(member_search(query="AbCd-1234")) == [first.member]


def test_long_vowel_mark_keeps_kana_names_apart():
    yuko = member_register(member=Member(), terms_version="v1", personal={"name_kana": "ユーコ"})
    member_register(member=Member(), terms_version="v1", personal={"name_kana": "ユコ"})

    assert list(member_search(query="ゆーこ")) == [yuko]


def test_phone_is_found_whatever_separators_were_typed():
    member = member_register(member=Member(), terms_version="v1", personal={"phone": "090-1234-5678"})

    for typed in ("09012345678", "090ー1234ー5678", "０９０ １２３４ ５６７８"):
        assert list(member_search(query=typed)) == [member], typed
