import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from members.models import Card, Member
from members.services import PERSONAL_FIELDS, card_create, member_set_personal_data


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class MemberFactory(DjangoModelFactory):
    """A registered member; personal data goes through the service so the blind indexes are set."""

    class Meta:
        model = Member

    status = Member.Status.ACTIVE
    name = factory.Faker("name", locale="ja_JP")
    name_kana = factory.Faker("kana_name", locale="ja_JP")
    phone = factory.Sequence(lambda n: f"090-{n // 10000 % 10000:04d}-{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"member{n}@example.jp")
    address = factory.Faker("address", locale="ja_JP")
    birth_date = factory.Faker("date_of_birth", minimum_age=18, maximum_age=90)
    birth_year = factory.LazyAttribute(lambda m: m.birth_date.year if m.birth_date else None)
    birth_month = factory.LazyAttribute(lambda m: m.birth_date.month if m.birth_date else None)
    postal_code = "100-0001"
    terms_version = "2024-04"
    terms_agreed_at = factory.LazyFunction(timezone.now)
    registered_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        personal = {field: kwargs.pop(field) for field in PERSONAL_FIELDS if field in kwargs}
        return member_set_personal_data(member=model_class(*args, **kwargs), **personal)


class ProvisionalMemberFactory(DjangoModelFactory):
    """The holder of a card first seen at a till: nothing known about the person yet."""

    class Meta:
        model = Member

    status = Member.Status.UNREGISTERED


class CardFactory(DjangoModelFactory):
    class Meta:
        model = Card

    member = factory.SubFactory(MemberFactory)
    card_type = Card.CardType.PROGRAMME
    number = factory.Sequence(lambda n: f"9{n:015d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return card_create(number=kwargs["number"], card_type=kwargs["card_type"], member=kwargs["member"])
