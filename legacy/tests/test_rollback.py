"""An import is rolled back whole while nothing has touched it, and refused, with the reason and nothing
written, once its points were used or its members did anything."""

import pytest

from legacy.models import ImportBatch, LegacyMember
from legacy.services import RollbackRefused, legacy_import, legacy_rollback
from legacy.tests.helpers import everything, source
from members.models import Card, Member
from members.services import card_find
from points.models import Account, Entry, Lot, LotUse
from points.services import points_spend
from points.verification import ledger_problems
from ranks.models import MemberRank, RankRecord
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(programme, files, staff):
    return legacy_import(programme=programme, source=source(files), staff=staff)


def test_a_rollback_takes_the_whole_import_back(imported, programme, staff):
    member_ids = list(LegacyMember.objects.filter(batch=imported).values_list("member_id", flat=True))

    batch = legacy_rollback(batch=imported, staff=staff, reason="ファイルの誤り")

    assert (batch.status, batch.rolled_back_by, batch.rollback_reason) == (
        ImportBatch.Status.ROLLED_BACK,
        staff,
        "ファイルの誤り",
    )
    # The ledger: every opening balance reversed by an entry naming it, its lot taken back whole.
    reversals = Entry.objects.filter(kind=Entry.Kind.IMPORT, points__lt=0)
    assert reversals.count() == 5
    assert {entry.operation for entry in reversals} == {batch.undo_operation}
    assert all(entry.reverses.kind == Entry.Kind.IMPORT for entry in reversals)
    assert set(Lot.objects.values_list("remaining", flat=True)) == {0}
    assert LotUse.objects.count() == 5
    assert set(Account.objects.filter(programme=programme).values_list("balance", flat=True)) == {0}
    # The members: ended, their personal data erased; their cards blocked, their numbers free again.
    members = Member.objects.filter(pk__in=member_ids)
    assert {(member.status, member.name, member.phone_bidx) for member in members} == {
        (Member.Status.WITHDRAWN, "", "")
    }
    assert set(Card.objects.values_list("status", flat=True)) == {Card.Status.BLOCKED}
    assert card_find(number="1000000000000001") is None
    # The ranks: gone, and the history says why.
    assert not MemberRank.objects.filter(programme=programme).exists()
    assert RankRecord.objects.filter(reason="旧システムからの移行を取消").count() == 2
    assert ledger_problems(deep=True) == []


def test_after_a_rollback_the_corrected_files_can_be_imported(imported, programme, files, staff):
    legacy_rollback(batch=imported, staff=staff, reason="ファイルの誤り")

    again = legacy_import(programme=programme, source=source(files), staff=staff)

    assert again.status == ImportBatch.Status.IMPORTED
    assert (
        card_find(number="1000000000000001").member_id
        == LegacyMember.objects.get(batch=again, legacy_id="A0001").member_id
    )
    assert ledger_problems(deep=True) == []


def test_a_rollback_is_refused_once_a_spend_touched_a_lot(imported, store, staff):
    # given a member spent some of the points brought over
    member_id = LegacyMember.objects.get(batch=imported, legacy_id="A0001").member_id
    card = Card.objects.filter(member_id=member_id).order_by("pk").first()
    points_spend(card=card, store=store, points=100, idempotency_key="spend-after-import")
    before = everything()

    # when the import is rolled back
    with pytest.raises(RollbackRefused) as refused:
        legacy_rollback(batch=imported, staff=staff, reason="ファイルの誤り")

    # then it is refused, saying why, and nothing changed
    message = str(refused.value)
    pseudonym = Member.objects.get(pk=member_id).pseudonym
    assert message.startswith(
        "この移行は取り消せません。取込後に移行したポイント明細の利用 1 件（利用・失効・移動・交換）、"
        f"移行した会員の取引 1 件があります（例：{pseudonym} "
    )
    assert message.endswith(" 利用）。")
    assert everything() == before


def test_a_rollback_is_refused_once_a_member_bought_at_a_till(imported, store, staff):
    member_id = LegacyMember.objects.get(batch=imported, legacy_id="A0003").member_id
    till_buy(Card.objects.get(member_id=member_id), store, amount_yen=1_000)

    with pytest.raises(RollbackRefused, match="取込後に移行した会員の取引 1 件があります"):
        legacy_rollback(batch=imported, staff=staff, reason="ファイルの誤り")
    assert ImportBatch.objects.get(pk=imported.pk).status == ImportBatch.Status.IMPORTED


def test_a_rollback_needs_a_reason_and_happens_once(imported, staff):
    with pytest.raises(RollbackRefused, match="取消の理由を入力してください"):
        legacy_rollback(batch=imported, staff=staff, reason=" ")

    legacy_rollback(batch=imported, staff=staff, reason="ファイルの誤り")

    with pytest.raises(RollbackRefused, match="取込済みの移行だけを取り消せます"):
        legacy_rollback(batch=imported, staff=staff, reason="もう一度")
