import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from loyalty.roles import sync_role_groups
from stores.models import Merchant, Store, Terminal


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    code = factory.Sequence(lambda n: f"M{n:05d}")
    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    invoice_registration_number = factory.Sequence(lambda n: f"T{n:013d}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.Sequence(lambda n: f"テスト商店{n}")
    category = Store.Category.BAKERY
    earn_rate_bp = 100
    contract_start = datetime.date(2024, 4, 1)


class TerminalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Terminal

    store = factory.SubFactory(StoreFactory)
    code = factory.Sequence(lambda n: f"TRM{n:05d}")
    name = factory.Sequence(lambda n: f"レジ{n}")


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff account in one role group (secretariat, operator, auditor)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    # Tests log staff in with force_login; no password to hash.
    password = factory.django.Password(None)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            # Transactional tests flush the groups the migration made.
            if not Group.objects.filter(name=extracted).exists():
                sync_role_groups()
            user.groups.add(Group.objects.get(name=extracted))
