import csv
import io

import pytest
import tablib
from django.utils import translation

from stores.tests.factories import MerchantFactory


@pytest.fixture
def english():
    # Messages are asserted in their English msgids; the interface itself defaults to Japanese.
    with translation.override("en"):
        yield


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="jimu", password="x", email="jimu@example.com")


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def merchant(db):
    return MerchantFactory(code="M001", name="山田商事")


def csv_text(headers, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def dataset(headers, rows) -> tablib.Dataset:
    data = tablib.Dataset(headers=list(headers))
    for row in rows:
        data.append(list(row))
    return data


STORE_HEADERS = ["code", "merchant", "name", "category", "postal_code", "earn_rate_bp", "contract_start"]
