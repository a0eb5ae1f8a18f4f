"""The ledger's admin: read-only entries, the outstanding points report. The member page and its operations
are lifecycle's (lifecycle/tests/test_member_page*.py)."""

import uuid

import pytest
from django.urls import reverse

from members.services import member_register
from points.models import Entry
from points.services import points_earn

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretariat(client, django_user_model):
    user = django_user_model.objects.create_superuser("jimu", password="x")
    client.force_login(user)
    return user


@pytest.fixture
def member(card, store):
    member = member_register(
        member=card.member, terms_version="2024-04", personal={"name": "山田 太郎", "phone": "090-1234-5678"}
    )
    points_earn(card=card, store=store, amount_yen=12_345, idempotency_key=str(uuid.uuid4()))
    return member


def test_ledger_entries_cannot_be_added_changed_or_deleted_in_the_admin(client, secretariat, member):
    entry = Entry.objects.first()

    assert client.get(reverse("admin:points_entry_add")).status_code == 403
    assert client.post(reverse("admin:points_entry_change", args=[entry.pk]), {"points": 1}).status_code == 403
    assert client.post(reverse("admin:points_entry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert Entry.objects.get(pk=entry.pk).points == 123


def test_entries_changelist_runs_a_bounded_number_of_queries(
    client, secretariat, card, store, django_assert_max_num_queries
):
    for n in range(60):
        points_earn(card=card, store=store, amount_yen=1_000 + n, idempotency_key=f"k{n}")

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:points_entry_changelist"))
    assert response.status_code == 200


def test_outstanding_points_report_by_issuing_store_at_a_past_date(client, secretariat, card, store, other_store):
    import datetime

    from django.utils import timezone

    from points.services import points_spend

    points_earn(card=card, store=store, amount_yen=10_000, idempotency_key="a")
    points_earn(card=card, store=other_store, amount_yen=3_000, idempotency_key="b")
    points_spend(card=card, store=other_store, points=120, idempotency_key="c")
    today = timezone.localdate()

    now = client.get(reverse("admin:points_outstanding"), {"on": today.isoformat()}).content.decode()
    yesterday = client.get(
        reverse("admin:points_outstanding"), {"on": (today - datetime.timedelta(days=1)).isoformat()}
    ).content.decode()

    # The spend took the 100 points of `store` first (same expiry, earned first), then 20 of other_store's 30.
    assert store.name not in now
    assert other_store.name in now and 'id="outstanding-net">10<' in now
    assert 'id="outstanding-net">0<' in yesterday
