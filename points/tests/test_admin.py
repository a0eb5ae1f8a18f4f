import uuid

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from members.models import Card, Member
from members.services import card_find, member_register
from points.models import Entry
from points.services import points_earn
from points.tests.factories import make_card

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


def change_url(member):
    return reverse("admin:members_member_change", args=[member.pk])


def test_member_page_shows_balance_expiring_points_and_history(client, secretariat, member, store):
    page = client.get(change_url(member)).content.decode()

    assert "123" in page and 'id="open-lots"' in page
    assert store.name in page
    assert "付与" in page  # the earn entry, in Japanese


def test_adjustment_without_reason_is_refused_in_japanese(client, secretariat, member, programme):
    response = client.post(
        reverse("admin:members_member_adjust", args=[member.pk]),
        {"programme": programme.pk, "points": 50, "reason": " "},
    )

    assert response.status_code == 200
    assert "このフィールドは必須です" in response.content.decode() or "理由" in response.content.decode()
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST).exists()


def test_adjustment_is_recorded_with_staff_and_reason(client, secretariat, member, programme):
    response = client.post(
        reverse("admin:members_member_adjust", args=[member.pk]),
        {"programme": programme.pk, "points": -20, "reason": "二重付与の訂正"},
    )

    assert response.status_code == 302
    entry = Entry.objects.get(kind=Entry.Kind.ADJUST)
    assert (entry.points, entry.reason, entry.staff) == (-20, "二重付与の訂正", secretariat)
    assert AuditEvent.objects.filter(summary="manual adjustment", actor=secretariat).exists()


def test_card_replacement_from_the_member_page(client, secretariat, member, card):
    response = client.post(
        reverse("admin:members_member_replace_card", args=[member.pk]),
        {"old_card": card.pk, "new_card_type": "transit_ic", "new_number": "0123456789abcdef", "reason": "紛失"},
    )

    assert response.status_code == 302
    new = card_find(number="0123456789ABCDEF")
    assert new.member == member
    assert Card.objects.get(pk=card.pk).status == Card.Status.REPLACED
    history = client.get(change_url(member)).content.decode()
    assert "history-card" in history and "紛失" in history


def test_card_replacement_with_malformed_number_shows_the_reason(client, secretariat, member, card):
    response = client.post(
        reverse("admin:members_member_replace_card", args=[member.pk]),
        {"old_card": card.pk, "new_card_type": "transit_ic", "new_number": "XYZ"},
    )

    assert response.status_code == 200
    assert "16" in response.content.decode()
    assert Card.objects.get(pk=card.pk).status == Card.Status.ACTIVE


def test_merge_by_card_number_from_the_member_page(client, secretariat, member, store, programme):
    other = make_card()
    points_earn(card=other, store=store, amount_yen=1_000, idempotency_key=str(uuid.uuid4()))

    response = client.post(reverse("admin:members_member_merge", args=[member.pk]), {"other": other.number})

    assert response.status_code == 302
    assert member.accounts.get(programme=programme).balance == 133
    assert Member.objects.get(pk=other.member_id).merged_into == member


def test_withdrawal_needs_confirmation_then_erases(client, secretariat, member):
    url = reverse("admin:members_member_withdraw", args=[member.pk])
    assert client.post(url, {"reason": "本人希望"}).status_code == 200
    assert Member.objects.get(pk=member.pk).status == Member.Status.ACTIVE

    client.post(url, {"reason": "本人希望", "confirm": "on"})

    member.refresh_from_db()
    assert (member.status, member.name) == (Member.Status.WITHDRAWN, "")


def test_ledger_entries_cannot_be_added_changed_or_deleted_in_the_admin(client, secretariat, member):
    entry = Entry.objects.first()

    assert client.get(reverse("admin:points_entry_add")).status_code == 403
    assert client.post(reverse("admin:points_entry_change", args=[entry.pk]), {"points": 1}).status_code == 403
    assert client.post(reverse("admin:points_entry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert Entry.objects.get(pk=entry.pk).points == 123


def test_auditor_cannot_adjust_points(client, django_user_model, member, programme):
    from django.contrib.auth.models import Group

    auditor = django_user_model.objects.create_user("kansa", is_staff=True)
    auditor.groups.add(Group.objects.get(name="auditor"))
    client.force_login(auditor)

    response = client.post(
        reverse("admin:members_member_adjust", args=[member.pk]),
        {"programme": programme.pk, "points": 50, "reason": "x"},
    )

    assert response.status_code == 403
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST).exists()


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
