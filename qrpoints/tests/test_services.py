"""A member scans codes: an event credits its points once, within its period and cap; a flyer gives a right that a
visit to one of its stores turns into points within the flyer's period. Read back from the ledger."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from members.models import Member
from members.tests.factories import MemberFactory, ProvisionalMemberFactory
from points import errors
from points.models import Account, Entry, Funder, Lot
from points.services import expiry_date, points_grant
from points.verification import ledger_problems
from qrpoints.models import FlyerRight, QrClaim, QrEvent, StoreVisitCode
from qrpoints.services import (
    Outcome,
    qr_scan,
    store_visit_code_current,
    store_visit_code_issue,
    store_visit_url,
)
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of
from qrpoints.tokens import QrKind

pytestmark = pytest.mark.django_db


def scan(member, obj_or_token, **kwargs):
    token = obj_or_token if isinstance(obj_or_token, str) else token_of(obj_or_token)
    return qr_scan(member=member, token=token, **kwargs)


def visit_token(store) -> str:
    return store_visit_url(store).rsplit("/my/qr/", 1)[1].rstrip("/")


def bonuses(member):
    return list(Entry.objects.filter(account__member=member, kind=Entry.Kind.BONUS).order_by("pk"))


# --- event points ----------------------------------------------------------------------------------------------


def test_an_event_credits_its_points_as_a_bonus_the_store_funds(japanese, member, programme, store):
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300, funder=Funder.STORE, store=store)

    result = scan(member, event)

    assert (result.kind, result.outcome, result.points, result.obj) == (QrKind.EVENT, Outcome.CREDITED, 300, event)
    assert result.message == "「駅前夏祭り」の300ポイントを付与しました。"
    (entry,) = bonuses(member)
    assert (entry.points, entry.funder, entry.store, entry.reason) == (300, Funder.STORE, store, "駅前夏祭り")
    assert result.entries == (entry,)
    assert Account.objects.get(member=member, programme=programme).balance == 300
    lot = Lot.objects.get(entry=entry)
    assert (lot.points, lot.store, lot.expires_on) == (
        300,
        store,
        expiry_date(programme=programme, earned_at=entry.occurred_at),
    )
    claim = QrClaim.objects.get(event=event, member=member)
    assert claim.entry == entry
    assert QrEvent.objects.get(pk=event.pk).claims_count == 1
    assert ledger_problems(deep=True) == []


def test_a_secretariat_funded_event_without_a_store_credits_points_nobody_is_billed_for(member, programme):
    event = QrEventFactory(programme=programme, funder=Funder.SECRETARIAT, store=None)

    scan(member, event)

    (entry,) = bonuses(member)
    assert (entry.funder, entry.store) == (Funder.SECRETARIAT, None)


def test_a_second_scan_of_the_same_event_credits_nothing_and_says_so(japanese, member, programme):
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300)
    scan(member, event)

    again = scan(member, event)

    assert (again.outcome, again.points, again.entries) == (Outcome.ALREADY, 0, ())
    assert again.message == "「駅前夏祭り」のポイントはすでに受け取り済みです。"
    assert len(bonuses(member)) == 1
    assert QrEvent.objects.get(pk=event.pk).claims_count == 1
    assert Account.objects.get(member=member, programme=programme).balance == 300


def test_before_the_period_nothing_is_credited(japanese, member, programme):
    start = timezone.make_aware(datetime.datetime(2030, 8, 1, 10, 0))
    event = QrEventFactory(
        programme=programme, name="花火大会", valid_from=start, valid_until=start + datetime.timedelta(days=1)
    )

    result = scan(member, event)

    assert (result.outcome, result.points) == (Outcome.NOT_YET, 0)
    assert result.message == "「花火大会」の受付は2030/08/01 10:00からです。期間中にもう一度読み取ってください。"
    assert bonuses(member) == [] and not QrClaim.objects.exists()
    assert not Account.objects.filter(member=member).exists()


def test_after_the_period_nothing_is_credited(japanese, member, programme):
    end = timezone.make_aware(datetime.datetime(2025, 8, 2, 0, 0))
    event = QrEventFactory(
        programme=programme, name="花火大会", valid_from=end - datetime.timedelta(days=1), valid_until=end
    )

    result = scan(member, event)

    assert (result.outcome, result.points) == (Outcome.ENDED, 0)
    assert result.message == "「花火大会」の受付は2025/08/02 00:00に終了しました。ポイントは付与されていません。"
    assert bonuses(member) == []


def test_the_period_is_half_open(member, programme):
    event = QrEventFactory(programme=programme)

    assert scan(member, event, at=event.valid_until).outcome == Outcome.ENDED
    assert scan(member, event, at=event.valid_from).outcome == Outcome.CREDITED


def test_once_the_cap_is_reached_the_next_member_gets_nothing(japanese, programme):
    event = QrEventFactory(programme=programme, name="先着イベント", max_claims=2)
    first, second, third = MemberFactory(), MemberFactory(), MemberFactory()
    scan(first, event)
    scan(second, event)

    result = scan(third, event)

    assert (result.outcome, result.points) == (Outcome.FULL, 0)
    assert result.message == "「先着イベント」は先着2名に達したため受付を終了しました。ポイントは付与されていません。"
    assert bonuses(third) == []
    assert QrEvent.objects.get(pk=event.pk).claims_count == 2
    # The account a refused claim opened under its lock was rolled back with it.
    assert not Account.objects.filter(member=third).exists()


@pytest.mark.parametrize("status", [Member.Status.SUSPENDED, Member.Status.WITHDRAWN])
def test_a_suspended_or_withdrawn_member_is_refused(japanese, programme, status):
    # A withdrawn member's personal data is erased.
    member = ProvisionalMemberFactory(status=status)
    event = QrEventFactory(programme=programme)

    result = scan(member, event)

    assert (result.outcome, result.points) == (Outcome.MEMBER_REFUSED, 0)
    assert result.message == "会員資格が停止中または終了しているため、ポイントを付与できません。"
    assert bonuses(member) == [] and QrEvent.objects.get(pk=event.pk).claims_count == 0


def test_a_member_suspended_after_loading_is_refused_under_the_lock(programme, member):
    event = QrEventFactory(programme=programme)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)

    # The member as the site loaded it before the suspension.
    result = scan(member, event)

    assert result.outcome == Outcome.MEMBER_REFUSED
    assert bonuses(member) == [] and QrEvent.objects.get(pk=event.pk).claims_count == 0


def test_a_forged_token_is_refused_with_a_message(japanese, member, programme):
    event = QrEventFactory(programme=programme)
    token = token_of(event)

    result = scan(member, token[:-2] + "xx")

    assert (result.kind, result.outcome, result.points, result.obj) == ("", Outcome.INVALID, 0, None)
    assert result.message.startswith("このQRコードは無効です。")
    assert bonuses(member) == []


# --- flyer points -------------------------------------------------------------------------------------------------


def test_a_flyer_gives_a_right_and_a_visit_to_its_store_credits_it(japanese, member, programme, store):
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", points=50, funder=Funder.STORE, stores=[store])

    taken = scan(member, flyer)

    assert (taken.kind, taken.outcome, taken.points, taken.obj) == (QrKind.FLYER, Outcome.RIGHT_TAKEN, 0, flyer)
    assert taken.message.startswith("チラシ「秋のチラシ」を受け付けました。")
    assert store.name in taken.message
    assert bonuses(member) == []
    right = FlyerRight.objects.get(flyer=flyer, member=member)
    assert right.entry is None

    visited = scan(member, visit_token(store))

    assert (visited.kind, visited.outcome, visited.points, visited.obj) == (QrKind.VISIT, Outcome.CREDITED, 50, store)
    assert visited.message == f"{store.name}へのご来店で、「秋のチラシ」の50ポイントを付与しました。"
    (entry,) = bonuses(member)
    assert (entry.points, entry.funder, entry.store, entry.reason) == (50, Funder.STORE, store, "秋のチラシ")
    right.refresh_from_db()
    assert (right.entry, right.redeemed_store) == (entry, store)
    assert ledger_problems(deep=True) == []


def test_a_second_visit_credits_nothing_and_says_so(japanese, member, programme, store):
    flyer = FlyerFactory(programme=programme, stores=[store])
    scan(member, flyer)
    scan(member, visit_token(store))

    again = scan(member, visit_token(store))

    assert (again.outcome, again.points) == (Outcome.ALREADY, 0)
    assert again.message == "チラシのポイントはすでに受け取り済みです。付与待ちのチラシポイントはありません。"
    assert len(bonuses(member)) == 1


def test_scanning_the_flyer_again_takes_no_second_right(japanese, member, programme, store):
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", stores=[store])
    scan(member, flyer)

    again = scan(member, flyer)

    assert again.outcome == Outcome.ALREADY
    assert "すでに受け付け済み" in again.message
    assert FlyerRight.objects.filter(member=member).count() == 1


def test_a_visit_without_a_flyer_credits_nothing(japanese, member, programme, store):
    FlyerFactory(programme=programme, stores=[store])

    result = scan(member, visit_token(store))

    assert (result.outcome, result.points) == (Outcome.NOTHING_WAITING, 0)
    assert result.message == "付与待ちのチラシポイントはありません。先にチラシのQRコードを読み取ってください。"
    assert bonuses(member) == []


def test_a_visit_after_the_flyers_period_credits_nothing(japanese, member, programme, store):
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", stores=[store])
    scan(member, flyer)

    result = scan(member, visit_token(store), at=flyer.valid_until + datetime.timedelta(minutes=1))

    assert (result.outcome, result.points) == (Outcome.ENDED, 0)
    assert result.message.startswith("「秋のチラシ」の受付は") and "ポイントは付与されていません" in result.message
    assert bonuses(member) == []
    assert FlyerRight.objects.get(member=member).entry is None


def test_a_visit_to_a_store_not_in_the_flyer_credits_nothing(japanese, member, programme, store, other_store):
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", stores=[store])
    scan(member, flyer)

    result = scan(member, visit_token(other_store))

    assert (result.outcome, result.points) == (Outcome.NOT_THIS_STORE, 0)
    assert (
        result.message == f"{other_store.name}は「秋のチラシ」の対象店舗ではありません。ポイントは付与されていません。"
    )
    assert bonuses(member) == []
    # The right still waits for a visit to the flyer's store.
    assert scan(member, visit_token(store)).points == flyer.points


def test_one_visit_credits_every_flyer_of_the_store(member, programme, store):
    first = FlyerFactory(programme=programme, name="A", points=10, stores=[store])
    second = FlyerFactory(programme=programme, name="B", points=20, funder=Funder.SECRETARIAT, stores=[store])
    scan(member, first)
    scan(member, second)

    result = scan(member, visit_token(store))

    assert result.points == 30
    assert sorted((entry.points, entry.funder) for entry in bonuses(member)) == [
        (10, Funder.STORE),
        (20, Funder.SECRETARIAT),
    ]


def test_a_flyer_with_a_cap_refuses_members_past_it(japanese, programme, store):
    flyer = FlyerFactory(programme=programme, name="限定チラシ", max_claims=1, stores=[store])
    scan(MemberFactory(), flyer)

    result = scan(MemberFactory(), flyer)

    assert result.outcome == Outcome.FULL
    assert result.message.startswith("「限定チラシ」は先着1名に達したため")
    assert FlyerRight.objects.count() == 1


def test_a_flyer_scanned_before_its_period_gives_no_right(member, programme, store):
    flyer = FlyerFactory(programme=programme, stores=[store])

    result = scan(member, flyer, at=flyer.valid_from - datetime.timedelta(seconds=1))

    assert result.outcome == Outcome.NOT_YET
    assert not FlyerRight.objects.exists()


# --- store visit codes ------------------------------------------------------------------------------------------


def test_a_stores_new_code_retires_the_old_one(japanese, member, programme, store, staff):
    flyer = FlyerFactory(programme=programme, stores=[store])
    scan(member, flyer)
    old = visit_token(store)

    issued = store_visit_code_issue(store=store, staff=staff)

    refused = scan(member, old)
    assert (refused.outcome, refused.points) == (Outcome.INVALID, 0)
    assert "更新されています" in refused.message
    assert StoreVisitCode.objects.filter(store=store, retired_at__isnull=True).get() == issued
    assert AuditEvent.objects.filter(actor=staff, object_id=str(issued.pk)).exists()
    assert scan(member, visit_token(store)).points == flyer.points


def test_the_visit_url_is_the_stores_one_live_code(store):
    first = store_visit_url(store)

    assert store_visit_url(store) == first
    assert StoreVisitCode.objects.filter(store=store).count() == 1
    assert store_visit_code_current(store=store).retired_at is None


# --- the ledger's helper ------------------------------------------------------------------------------------------


def test_points_a_store_pays_for_must_name_the_store(member, programme):
    with pytest.raises(errors.InvalidOperation):
        points_grant(
            member_id=member.pk,
            programme=programme,
            points=10,
            funder=Funder.STORE,
            store=None,
            reason="x",
            idempotency_key="grant-1",
        )


# --- a merge ----------------------------------------------------------------------------------------------------


def test_after_a_merge_the_survivor_cannot_claim_again_what_the_merged_record_claimed(
    japanese, programme, store, staff
):
    from lifecycle.services import member_merge

    event = QrEventFactory(programme=programme, name="駅前夏祭り")
    flyer = FlyerFactory(programme=programme, stores=[store])
    both = QrEventFactory(programme=programme, name="二重")
    source, target = MemberFactory(), MemberFactory()
    scan(source, event)
    scan(source, flyer)
    scan(source, both)
    scan(target, both)

    moved = member_merge(source=source, target=target, staff=staff)

    assert (moved["qr_claims"], moved["flyer_rights"]) == (1, 1)
    assert scan(target, event).outcome == Outcome.ALREADY
    assert scan(target, visit_token(store)).points == flyer.points
    # Each record claimed the event of both before the merge: the merged record keeps its claim.
    assert QrClaim.objects.get(event=both, member=source)
