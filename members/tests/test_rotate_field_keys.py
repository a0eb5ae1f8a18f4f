import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from members.models import Card, Member
from members.tests.factories import CardFactory, MemberFactory, ProvisionalMemberFactory
from members.tests.test_encryption import raw_columns, use_keys

FIELDS = ("name", "kana", "address", "phone", "email", "birth_date", "card_number")


def keys_for_every_field(settings, *keys: str) -> None:
    use_keys(settings, **{field: list(keys) for field in FIELDS})


@pytest.fixture
def key_a():
    return Fernet.generate_key().decode()


@pytest.fixture
def key_b():
    return Fernet.generate_key().decode()


@pytest.mark.django_db
def test_rotation_leaves_every_value_readable_with_the_new_key_alone(settings, key_a, key_b):
    # given members and a card encrypted under key A, and key B put first
    keys_for_every_field(settings, key_a)
    members = [MemberFactory(name=f"会員 {n}", phone=f"03-1234-000{n}") for n in range(5)]
    provisional = ProvisionalMemberFactory()
    card = CardFactory(member=members[0], number="1111222233334444")
    keys_for_every_field(settings, key_b, key_a)

    # when
    call_command("rotate_field_keys", batch_size=2, stdout=io.StringIO())

    # then with key B only, everything still decrypts
    keys_for_every_field(settings, key_b)
    for n, member in enumerate(members):
        stored = Member.objects.get(pk=member.pk)
        assert (stored.name, stored.phone) == (f"会員 {n}", f"03-1234-000{n}")
        assert stored.birth_date == member.birth_date
        assert stored.address == member.address
    assert Card.objects.get(pk=card.pk).number == "1111222233334444"
    assert Member.objects.get(pk=provisional.pk).name == ""


@pytest.mark.django_db
def test_rotation_prints_counts(settings, key_a, key_b):
    # given
    keys_for_every_field(settings, key_a)
    MemberFactory.create_batch(3)
    keys_for_every_field(settings, key_b, key_a)
    out = io.StringIO()

    # when
    call_command("rotate_field_keys", stdout=out)

    # then six encrypted fields per member
    assert "members.Member: 3 rows, 18 values re-encrypted." in out.getvalue()


@pytest.mark.django_db
def test_a_value_no_key_decrypts_stops_the_rotation_naming_field_and_row(settings, key_a, key_b):
    # given a member encrypted under key A, which is then dropped
    keys_for_every_field(settings, key_a)
    member = MemberFactory()
    keys_for_every_field(settings, key_b)

    # when / then
    with pytest.raises(CommandError, match=rf"members\.Member\.name of row id={member.pk} cannot be decrypted"):
        call_command("rotate_field_keys", stdout=io.StringIO())


@pytest.mark.django_db
def test_dry_run_writes_nothing(settings, key_a, key_b):
    # given
    keys_for_every_field(settings, key_a)
    member = MemberFactory()
    before = raw_columns("members_member", member.pk, "name", "phone")
    keys_for_every_field(settings, key_b, key_a)

    # when
    call_command("rotate_field_keys", dry_run=True, stdout=io.StringIO())

    # then
    assert raw_columns("members_member", member.pk, "name", "phone") == before
