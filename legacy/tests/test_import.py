"""A good import writes members, cards, point lots and ranks as the old system had them, reconciled to the
files' totals; the lots keep their dates and behave as any other; verify_ledger holds."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from legacy.models import ImportBatch, LegacyMember
from legacy.services import legacy_import
from legacy.tests.helpers import SAMPLE_POINTS, source
from members.models import Card, CardEvent, Member
from members.services import card_find
from points.models import Account, Entry, Lot
from points.services import points_expire_lapsed, points_spend
from points.verification import ledger_problems
from ranks.models import MemberRank, RankRecord
from ranks.services import ranks_evaluate

pytestmark = pytest.mark.django_db


def member(legacy_id: str) -> Member:
    return Member.objects.get(pk=LegacyMember.objects.get(legacy_id=legacy_id).member_id)


def tokyo_midnight(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day))


@pytest.fixture
def imported(programme, files, staff):
    return legacy_import(programme=programme, source=source(files), staff=staff)


def test_an_import_reconciles_to_the_files_totals(imported):
    assert imported.status == ImportBatch.Status.IMPORTED
    report = imported.report
    assert report["dry_run"] is False
    assert report["reconciled"] is True
    assert report["total"] == {
        "count": 5,
        "points": SAMPLE_POINTS,
        "made_count": 5,
        "made_points": SAMPLE_POINTS,
        "control_points": SAMPLE_POINTS,
        "control_count": 5,
        "matches": True,
    }
    assert (imported.members, imported.cards, imported.lots, imported.points, imported.ranks) == (3, 5, 5, 4_130, 2)
    assert Entry.objects.filter(kind=Entry.Kind.IMPORT).count() == 5


def test_members_are_registered_with_their_personal_data_and_consents(imported):
    taro = member("A0001")
    assert (taro.status, taro.name, taro.name_kana, taro.phone, taro.email) == (
        Member.Status.ACTIVE,
        "山田 太郎",
        "ヤマダ タロウ",
        "090-1234-5678",
        "taro@example.jp",
    )
    assert (taro.birth_date, taro.birth_year, taro.birth_month, taro.gender) == (
        datetime.date(1980, 4, 1),
        1980,
        4,
        "male",
    )
    assert (taro.postal_code, taro.terms_version, taro.opt_in_mail_magazine) == ("100-0001", "v3", True)
    assert timezone.localdate(taro.registered_at) == datetime.date(2015, 4, 1)
    assert member("A0002").gender == "female"
    assert member("A0003").status == Member.Status.UNREGISTERED
    # Searchable by phone, as one registered in the admin would be.
    from members.selectors import member_search

    assert list(member_search(query="09012345678")) == [taro]


def test_old_card_numbers_are_kept_and_found_at_a_till(imported):
    taro = member("A0001")
    assert card_find(number="1000000000000001").member == taro
    assert card_find(number="0123456789ABCDEF").member == taro
    blocked = card_find(number="1000000000000099")
    assert (blocked.member, blocked.status) == (member("A0002"), Card.Status.BLOCKED)
    assert CardEvent.objects.filter(kind=CardEvent.Kind.CREATED).count() == 5


def test_each_lot_keeps_its_dates_and_issuing_store_and_is_an_import_entry(imported, programme):
    taro = member("A0001")
    account = Account.objects.get(member=taro, programme=programme)
    assert (account.balance, account.debt) == (1_550, 0)
    lots = {
        (lot.points, timezone.localdate(lot.earned_at), lot.expires_on, lot.store.code if lot.store else None)
        for lot in Lot.objects.filter(account=account).select_related("store")
    }
    assert lots == {
        (1_200, datetime.date(2025, 4, 10), datetime.date(2029, 4, 30), "S001"),
        (300, datetime.date(2025, 12, 1), datetime.date(2029, 12, 31), None),
        (50, datetime.date(2026, 1, 15), datetime.date(2030, 1, 31), "S002"),
    }
    entry = Entry.objects.get(account=account, points=1_200)
    assert (entry.kind, entry.occurred_at, entry.card.number, entry.reason) == (
        Entry.Kind.IMPORT,
        tokyo_midnight(2025, 4, 10),
        "1000000000000001",
        "旧システムから移行",
    )
    assert entry.idempotency_key == f"legacy:{imported.pk}:1"
    # Every member of the old system has an account in the programme, with or without points.
    assert Account.objects.filter(programme=programme).count() == 3


def test_ranks_are_set_with_their_validity_and_recorded(imported, programme):
    gold = MemberRank.objects.get(member=member("A0001"), programme=programme)
    assert (gold.rank.name, gold.valid_until, gold.since) == (
        "ゴールド",
        datetime.date(2029, 3, 31),
        timezone.localdate(),
    )
    record = RankRecord.objects.get(member=member("A0001"))
    assert (record.rank_before, record.rank.name, record.reason) == (
        None,
        "ゴールド",
        "旧システムから移行（有効期限 2029/03/31）",
    )
    assert RankRecord.objects.get(member=member("A0002")).reason == "旧システムから移行（有効期限 2028/03/31）"


def test_the_nightly_evaluation_keeps_an_imported_rank_until_its_validity_ends(imported, programme):
    taro = member("A0001")

    ranks_evaluate(programme=programme, day=datetime.date(2029, 3, 31))
    assert MemberRank.objects.get(member=taro, programme=programme).rank.name == "ゴールド"

    ranks_evaluate(programme=programme, day=datetime.date(2029, 4, 1))
    assert MemberRank.objects.get(member=taro, programme=programme).rank.name == "レギュラー"


def test_imported_points_are_spent_soonest_expiring_first_and_expire_as_any_other(imported, programme, store):
    taro = member("A0001")
    card = Card.objects.get(member=taro, number_last4="0001")

    points_spend(card=card, store=store, points=1_000, idempotency_key="after-import")
    lots = dict(Lot.objects.filter(account__member=taro).values_list("expires_on", "remaining"))
    assert lots[datetime.date(2029, 4, 30)] == 200

    # The rest of the April 2029 lot lapses at the end of its month, as any lot does.
    assert points_expire_lapsed(today=datetime.date(2029, 5, 1)) == (1, 200)
    assert Account.objects.get(member=taro, programme=programme).balance == 350
    assert Entry.objects.get(kind=Entry.Kind.EXPIRE).points == -200


def test_verify_ledger_holds_after_an_import(imported, capsys):
    assert ledger_problems(deep=True) == []
    call_command("verify_ledger", "--deep")
    assert "ledger OK" in capsys.readouterr().out


def test_the_import_is_in_the_audit_trail(imported, staff):
    event = AuditEvent.objects.get(object_type="legacy.ImportBatch")
    assert (event.actor, event.object_id) == (staff, str(imported.pk))
    assert event.detail == {"members": 3, "cards": 5, "lots": 5, "points": 4_130, "ranks": 2}


def test_the_same_old_members_cannot_be_brought_over_twice(imported, programme, files):
    from legacy.checking import Rejected

    with pytest.raises(Rejected) as rejected:
        legacy_import(programme=programme, source=source(files))
    assert rejected.value.problems.count == 3 + 5  # three old member numbers, five card numbers
