import datetime

import factory

from stores.models import Merchant, Store, Terminal


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    code = factory.Sequence(lambda n: f"M{n:04d}")
    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    invoice_registration_number = factory.Sequence(lambda n: f"T{n:013d}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"テスト商店{n}")
    category = Store.Category.BAKERY
    contract_start = datetime.date(2024, 4, 1)


class TerminalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Terminal

    store = factory.SubFactory(StoreFactory)
    code = factory.Sequence(lambda n: f"TRM{n:04d}")
    secret_hash = factory.Sequence(lambda n: f"{n:064x}")
