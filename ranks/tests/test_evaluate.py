"""Ranks placed at midnight on the purchases up to the day before, net of voids, with every change recorded
with the figures it was decided on."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from ranks.models import MemberRank, RankRecord
from ranks.services import ranks_evaluate
from till.services import till_void
from till.tests.helpers import till_buy, till_terminal_of

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def rank_of(card, programme):
    row = MemberRank.objects.filter(member=card.member, programme=programme).select_related("rank").first()
    return row.rank.name if row else None


def test_a_member_moves_up_at_midnight_with_the_figures_recorded(programme, ladder, store, card):
    # given 60,000 yen of purchases yesterday
    till_buy(card, store, amount_yen=60_000, at=days_ago(1))
    today = timezone.localdate()
    # when the night's evaluation runs
    changes = ranks_evaluate(programme=programme, day=today)
    # then Silver from today, and the record says why
    assert rank_of(card, programme) == "シルバー"
    record = RankRecord.objects.get(member=card.member)
    assert (record.rank_before, record.rank.name, record.effective_on) == (None, "シルバー", today)
    assert record.purchases_yen == 60_000
    assert "のお買上げ 60,000円 ≥ 50,000円" in record.reason
    assert len(changes) == 1
    # and the same night again changes nothing
    assert ranks_evaluate(programme=programme, day=today) == []


def test_a_purchase_of_today_counts_from_the_next_midnight(programme, ladder, store, card):
    # given a purchase made today
    till_buy(card, store, amount_yen=120_000)
    today = timezone.localdate()
    # then tonight's midnight (the start of today) does not see it, tomorrow's does
    assert ranks_evaluate(programme=programme, day=today) == []
    ranks_evaluate(programme=programme, day=today + datetime.timedelta(days=1))
    assert rank_of(card, programme) == "ゴールド"


def test_a_voided_purchase_takes_the_rank_down_after_the_grace(programme, ladder, store, card):
    # given a purchase that lifted the member to Silver
    receipt = till_buy(card, store, amount_yen=60_000, at=days_ago(2))
    today = timezone.localdate()
    ranks_evaluate(programme=programme, day=today - datetime.timedelta(days=1))
    assert rank_of(card, programme) == "シルバー"
    # when the purchase is voided
    till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="void-it")
    # then the next midnight sees the member below Silver but keeps it for the grace
    tomorrow = today + datetime.timedelta(days=1)
    assert ranks_evaluate(programme=programme, day=tomorrow) == []
    row = MemberRank.objects.get(member=card.member)
    assert (row.rank.name, row.below_since) == ("シルバー", tomorrow)
    assert ranks_evaluate(programme=programme, day=tomorrow + datetime.timedelta(days=29)) == []
    # and after 30 days moves them down, saying why
    (change,) = ranks_evaluate(programme=programme, day=tomorrow + datetime.timedelta(days=30))
    assert (change.rank_before.name, change.rank.name, change.purchases_yen) == ("シルバー", "レギュラー", 0)
    assert "< 50,000円（シルバーの基準）" in change.reason and "30日の猶予を経過" in change.reason
    assert rank_of(card, programme) == "レギュラー"


def test_a_member_back_above_the_rank_during_the_grace_keeps_it(programme, ladder, store, card):
    # given a Gold member whose purchase was voided: below Gold since tonight
    receipt = till_buy(card, store, amount_yen=120_000, at=days_ago(2))
    today = timezone.localdate()
    ranks_evaluate(programme=programme, day=today - datetime.timedelta(days=1))
    till_void(terminal=till_terminal_of(store), original=receipt.posting.entries[0], idempotency_key="void-it")
    tomorrow = today + datetime.timedelta(days=1)
    ranks_evaluate(programme=programme, day=tomorrow)
    assert MemberRank.objects.get(member=card.member).below_since == tomorrow
    # when the member buys enough again within the grace
    till_buy(card, store, amount_yen=110_000)
    assert ranks_evaluate(programme=programme, day=tomorrow + datetime.timedelta(days=1)) == []
    # then the rank was never lost and the grace is over
    row = MemberRank.objects.get(member=card.member)
    assert (row.rank.name, row.below_since) == ("ゴールド", None)
    assert RankRecord.objects.filter(member=card.member).count() == 1


def test_a_dry_run_tells_and_changes_nothing(programme, ladder, store, card, capsys):
    # given
    till_buy(card, store, amount_yen=100_000, at=days_ago(3))
    # when
    call_command("evaluate_ranks", "--programme", programme.code, "--dry-run")
    # then
    out = capsys.readouterr().out
    assert "1 ranks would change" in out and "— → ゴールド" in out
    assert not MemberRank.objects.exists() and not RankRecord.objects.exists()


def test_the_command_evaluates_as_at_a_given_date(programme, ladder, store, card, capsys):
    till_buy(card, store, amount_yen=100_000, at=days_ago(3))
    day = timezone.localdate() - datetime.timedelta(days=5)
    # before the purchase: nothing
    call_command("evaluate_ranks", "--date", day.isoformat())
    assert "0 ranks changed" in capsys.readouterr().out
    call_command("evaluate_ranks")
    assert rank_of(card, programme) == "ゴールド"


def test_the_secretariat_reads_why_a_member_has_a_rank(programme, ladder, store, card, secretariat_client):
    # given
    till_buy(card, store, amount_yen=60_000, at=days_ago(1))
    ranks_evaluate(programme=programme, day=timezone.localdate())
    # when
    page = secretariat_client.get("/admin/ranks/rankrecord/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    # then the change and the figures it was decided on
    assert card.member.pseudonym in page
    assert "60,000円" in page and "≥ 50,000円" in page
