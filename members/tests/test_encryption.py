import pytest
from cryptography.fernet import Fernet
from django.db import connection

from common import crypto
from common.crypto import DecryptionError
from members.models import Card, Member
from members.tests.factories import CardFactory, MemberFactory


def raw_columns(table: str, pk: int, *columns: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def use_keys(settings, **keys: list[str]) -> None:
    settings.FIELD_ENCRYPTION_KEYS = {**settings.FIELD_ENCRYPTION_KEYS, **keys}
    crypto.reset_key_cache()


@pytest.mark.django_db
def test_personal_data_is_not_stored_in_clear():
    # given
    member = MemberFactory(name="山田 太郎", phone="090-1234-5678", email="taro@example.jp")

    # when
    name, phone, email, phone_bidx = raw_columns("members_member", member.pk, "name", "phone", "email", "phone_bidx")

    # then
    assert "山田" not in name and "太郎" not in name
    assert "1234" not in phone and "5678" not in phone
    assert "taro" not in email
    assert "1234" not in phone_bidx


@pytest.mark.django_db
def test_personal_data_reads_back_in_clear():
    # given
    member = MemberFactory(name="山田 太郎", phone="090-1234-5678")

    # when
    stored = Member.objects.get(pk=member.pk)

    # then
    assert stored.name == "山田 太郎"
    assert stored.phone == "090-1234-5678"
    assert stored.birth_date == member.birth_date


@pytest.mark.django_db
def test_card_number_is_not_stored_in_clear():
    # given
    card = CardFactory(number="1234567812345678")

    # when
    (number,) = raw_columns("members_card", card.pk, "number")

    # then
    assert "12345678" not in number
    assert Card.objects.get(pk=card.pk).number == "1234567812345678"


@pytest.mark.django_db
def test_reading_with_the_wrong_key_raises_decryption_error(settings):
    # given a phone number encrypted under key A
    use_keys(settings, phone=[Fernet.generate_key().decode()])
    member = MemberFactory(phone="090-1234-5678")

    # when only key B is configured
    use_keys(settings, phone=[Fernet.generate_key().decode()])

    # then the value is refused, never shown as ciphertext or empty
    with pytest.raises(DecryptionError):
        Member.objects.get(pk=member.pk)
