import datetime

import pytest

from members.forms import MemberForm
from members.tests.factories import MemberFactory


def form_with(**overrides) -> MemberForm:
    data = {"name": "高橋 美咲", "terms_version": "2024-04", "gender": "", **overrides}
    return MemberForm(data=data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "kept"),
    [("03-1234-5678", "03-1234-5678"), ("09012345678", "09012345678"), ("０９０－１２３４－５６７８", "090-1234-5678")],
)
def test_a_phone_number_of_ten_or_eleven_digits_is_accepted(typed, kept):
    form = form_with(phone=typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == kept


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["03-1234-567", "090-1234-56789", "(03)1234-5678", "03-1234-abcd", "+81312345678"])
def test_a_malformed_phone_number_is_refused(typed):
    form = form_with(phone=typed)

    assert not form.is_valid()
    assert "phone" in form.errors


@pytest.mark.django_db
def test_a_malformed_email_is_refused():
    form = form_with(email="misaki@")

    assert not form.is_valid()
    assert "email" in form.errors


@pytest.mark.django_db
def test_kana_must_be_kana():
    assert "name_kana" in form_with(name_kana="Takahashi").errors
    assert form_with(name_kana="ﾀｶﾊｼ ミサキ").is_valid()


@pytest.mark.django_db
def test_the_birth_year_and_month_follow_the_birth_date():
    form = form_with(birth_date="1985-11-03", birth_year="2000", birth_month="1")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["birth_date"] == datetime.date(1985, 11, 3)
    assert (form.instance.birth_year, form.instance.birth_month) == (1985, 11)


@pytest.mark.django_db
def test_the_form_never_writes_personal_data_onto_the_member_itself():
    # given
    member = MemberFactory(phone="090-1111-2222")
    form = MemberForm(data={"phone": "090-3333-4444", "terms_version": "2024-04", "name": member.name}, instance=member)

    # when
    assert form.is_valid(), form.errors
    saved = form.save(commit=False)

    # then it is left to members.services, which sets the blind index with it
    assert saved.phone == "090-1111-2222"
    assert form.personal_data()["phone"] == "090-3333-4444"


@pytest.mark.django_db
def test_editing_shows_the_stored_personal_data():
    member = MemberFactory(phone="090-1111-2222")

    assert MemberForm(instance=member).initial["phone"] == "090-1111-2222"
