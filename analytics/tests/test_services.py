"""The summaries are refreshed from the ledger, set-based, for a range of days; verify_ledger reconciles them."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django_q.models import Schedule

from analytics.models import Circulation, Dormancy, LotFlow, PointsFlow, Registration, SummaryState, Visit, VisitDay
from analytics.tests.helpers import TODAY, buy, days_ago, member_card, noon, on, pay, refresh
from analytics.verification import summary_problems
from members.models import Member
from points.models import Entry

pytestmark = pytest.mark.django_db


def test_the_points_moved_match_the_ledger_at_every_grain(programme, store, other_store):
    # given purchases and a spend on two days
    cards = [member_card(gender="female") for _ in range(3)]
    for card in cards:
        buy(card, store, days_ago(3), amount_yen=2_000)
    pay(cards[0], other_store, days_ago(1), 15)
    # when
    refresh()
    # then each grain adds up to the ledger's points per kind
    ledger = dict(Entry.objects.values("kind").annotate(n=Sum("points")).values_list("kind", "n"))
    for grain in "ASMF":
        summed = PointsFlow.objects.filter(period="D", grain=grain).values("kind").annotate(n=Sum("points"))
        assert dict(summed.values_list("kind", "n")) == ledger == {"earn": 60, "spend": -15}
    month = PointsFlow.objects.filter(period="M", grain="A").values("day", "kind", "points", "members")
    assert list(month.order_by("kind")) == [
        {"day": TODAY.replace(day=1), "kind": "earn", "points": 60, "members": 3},
        {"day": TODAY.replace(day=1), "kind": "spend", "points": -15, "members": 1},
    ]


def test_lots_and_circulation_follow_the_points_from_store_to_store(programme, store, other_store):
    card = member_card()
    buy(card, store, days_ago(2), amount_yen=5_000)
    pay(card, other_store, days_ago(1), 30)

    refresh()

    assert list(LotFlow.objects.values_list("store_id", "issued", "used").order_by("day")) == [
        (store.pk, 50, 0),
        (store.pk, 0, 30),
    ]
    assert list(Circulation.objects.filter(period="D").values_list("issued_at_id", "spent_at_id", "points")) == [
        (store.pk, other_store.pk, 30)
    ]


def test_visits_know_the_previous_and_next_visit_at_each_place(programme, store, other_store):
    card = member_card()
    buy(card, store, days_ago(20))
    buy(card, other_store, days_ago(5))
    buy(card, store, days_ago(2))

    refresh()

    anywhere = Visit.objects.filter(place="").order_by("day")
    assert [(v.day, v.previous_day, v.next_day, v.gap_days) for v in anywhere] == [
        (days_ago(20), None, days_ago(5), None),
        (days_ago(5), days_ago(20), days_ago(2), 15),
        (days_ago(2), days_ago(5), None, 3),
    ]
    at_store = Visit.objects.filter(place=f"s:{store.pk}").order_by("day")
    assert [(v.day, v.gap_days) for v in at_store] == [(days_ago(20), None), (days_ago(2), 18)]
    assert Visit.objects.filter(place="c:bakery").count() == 3  # both stores are bakeries


def test_a_refresh_of_today_links_new_visits_to_the_summarised_ones(programme, store):
    # given summaries up to yesterday
    card = member_card()
    buy(card, store, days_ago(10))
    refresh(days_ago(1))
    # when the member comes back today and the schedule refreshes today only
    buy(card, store, TODAY)
    done = refresh()
    # then (yesterday became final with it)
    assert done.first_day == days_ago(1)
    first, second = Visit.objects.filter(place="").order_by("day")
    assert (first.next_day, second.previous_day, second.gap_days) == (TODAY, days_ago(10), 10)
    assert summary_problems(deep=True)[0] == []


def test_a_refresh_of_today_leaves_the_same_rows_as_a_full_rebuild(programme, store, other_store):
    # given members with visits at both stores before today, summarised up to yesterday
    cards = [member_card() for _ in range(4)]
    buy(cards[0], store, days_ago(30))
    buy(cards[0], other_store, days_ago(12))
    buy(cards[1], other_store, days_ago(100))
    buy(cards[1], other_store, days_ago(3))
    buy(cards[2], store, days_ago(200))
    buy(cards[3], store, days_ago(1))
    refresh(days_ago(1))
    # when they come back today (to the same store, the other one, or for the first time) and today is refreshed
    buy(cards[0], store, TODAY)
    buy(cards[1], store, TODAY)
    buy(cards[1], other_store, TODAY, hour=18)
    buy(cards[2], store, TODAY)
    buy(member_card(), other_store, TODAY)
    refresh()
    linked_today = _summary_rows()
    # then the summaries are those a rebuild from the first day makes
    refresh(first_day=days_ago(200))
    assert linked_today == _summary_rows()
    # three came back: each anywhere, to the category (both stores are bakeries) and to a store they knew
    assert Visit.objects.filter(day__lt=TODAY, next_day=TODAY).count() == 3 * 3
    assert summary_problems(deep=True)[0] == []


def _summary_rows() -> dict:
    def rows(model, exclude=("id",)):
        names = [field.attname for field in model._meta.concrete_fields if field.attname not in exclude]
        return sorted(model.objects.values_list(*names), key=repr)

    return {model.__name__: rows(model) for model in (Visit, VisitDay, Dormancy)}


def test_the_state_says_which_days_are_final(programme, store):
    buy(member_card(), store, days_ago(3))

    refresh()

    state = SummaryState.objects.get()
    assert (state.first_day, state.final_through) == (days_ago(3), days_ago(1))


def test_verify_ledger_reconciles_the_summaries(programme, store, capsys):
    buy(member_card(), store, days_ago(3))
    refresh()

    call_command("verify_ledger", "--deep")

    out = capsys.readouterr().out
    assert f"summaries final from {days_ago(3)} to {days_ago(1)}" in out
    assert "reconcile with the ledger" in out


def test_a_member_joins_a_programme_when_registered_and_in_it_and_final_days_keep_their_count(programme, store):
    # given a member registered five days ago who has not shopped yet, and a provisional member who shopped
    # before registering
    late = member_card(registered=noon(days_ago(5)))
    early = member_card()
    buy(early, store, days_ago(4))
    Member.objects.filter(pk=early.member_id).update(registered_at=noon(days_ago(2)), status=Member.Status.ACTIVE)
    refresh(days_ago(1))
    # when the first member shops in this programme today (their account here opens today)
    buy(late, store, TODAY)
    refresh()
    # then they join this programme today; the final days keep their counts and still reconcile
    joined = Registration.objects.filter(programme=programme).values_list("day", "registrations")
    assert sorted(joined) == [(days_ago(2), 1), (TODAY, 1)]
    assert summary_problems()[0] == []


def test_verify_ledger_names_a_summary_that_disagrees_with_the_ledger(programme, store):
    # given summaries, one of whose rows then drifts from the ledger
    buy(member_card(), store, days_ago(3))
    refresh()
    PointsFlow.objects.filter(period="D", grain="A").update(points=999)
    # when / then
    with pytest.raises(CommandError, match="reconciliation failed"):
        call_command("verify_ledger", stdout=StringIO(), stderr=StringIO())
    names = {problem.rule.name for problem in summary_problems()[0]}
    assert names == {"analytics_points_match_ledger", "analytics_points_grains_agree"}


def test_refresh_analytics_rebuilds_from_a_day(programme, store):
    buy(member_card(), store, days_ago(3))
    refresh()
    PointsFlow.objects.all().delete()

    with on(TODAY, 23):
        call_command("refresh_analytics", "--from", days_ago(5).isoformat(), stdout=StringIO())

    assert PointsFlow.objects.filter(period="D", grain="A").get().points == 10
    assert summary_problems()[0] == []


def test_the_refreshes_are_scheduled():
    schedules = dict(Schedule.objects.values_list("name", "func"))
    assert schedules["refresh-analytics-summaries"] == "analytics.tasks.refresh_summaries"
    assert schedules["refresh-analytics-today"] == "analytics.tasks.refresh_today"
    every = Schedule.objects.get(name="refresh-analytics-today")
    assert (every.schedule_type, every.minutes) == (Schedule.MINUTES, 5)


def test_an_empty_ledger_summarises_nothing():
    refresh()
    assert not PointsFlow.objects.exists()
    assert summary_problems()[0] == []


def test_refreshing_twice_changes_nothing(programme, store, other_store):
    card = member_card()
    buy(card, store, days_ago(40))
    pay(card, other_store, days_ago(2), 5)
    refresh()
    before = list(PointsFlow.objects.values_list("period", "day", "grain", "kind", "points", "members").order_by())

    refresh(first_day=days_ago(60))

    after = list(PointsFlow.objects.values_list("period", "day", "grain", "kind", "points", "members").order_by())
    assert sorted(before) == sorted(after)
    assert datetime.date(2026, 5, 1) in {row[1] for row in after}


def test_verification_reads_only_the_days_after_those_it_found_right(programme, store):
    # given summaries found right through yesterday
    buy(member_card(), store, days_ago(3))
    refresh()
    assert summary_problems()[0] == []
    state = SummaryState.objects.get()
    assert state.reconciled_through == state.final_through
    # when a day already reconciled drifts from the ledger
    PointsFlow.objects.filter(period="D", grain="A").update(points=999)
    # then a default reading does not read it again, a full one does
    problems, notes = summary_problems()
    assert problems == [] and "all reconciled before" in notes[0]
    names = {problem.rule.name for problem in summary_problems(full=True)[0]}
    assert "analytics_points_match_ledger" in names
    # and verify_ledger --full fails on it
    with pytest.raises(CommandError, match="reconciliation failed"):
        call_command("verify_ledger", "--full", stdout=StringIO(), stderr=StringIO())


def test_a_refresh_that_rewrites_reconciled_days_has_them_read_again(programme, store):
    buy(member_card(), store, days_ago(3))
    refresh()
    summary_problems()
    PointsFlow.objects.filter(period="D", grain="A").update(points=999)
    # when those days are summarised again (a rebuild from an earlier day)
    with on(TODAY, 23):
        call_command("refresh_analytics", "--from", days_ago(5).isoformat(), stdout=StringIO())
    state = SummaryState.objects.get()
    assert state.reconciled_through == days_ago(6) and state.final_rewrites == 1
    # then the next default reading reads them, and finds them right
    problems, notes = summary_problems()
    assert problems == [] and f"read from {days_ago(5)}" in notes[0]


def test_a_reading_overtaken_by_a_rewrite_records_nothing(programme, store):
    from analytics.services import analytics_reconciled

    buy(member_card(), store, days_ago(3))
    refresh()
    # given a reading that began before final days were summarised again
    began = SummaryState.objects.get()
    with on(TODAY, 23):
        call_command("refresh_analytics", "--from", days_ago(5).isoformat(), stdout=StringIO())
    # when it ends and records what it read
    analytics_reconciled(through=began.final_through, rewrites=began.final_rewrites)
    # then nothing is recorded; a reading begun after the rewrite records
    assert SummaryState.objects.get().reconciled_through is None
    now = SummaryState.objects.get()
    analytics_reconciled(through=now.final_through, rewrites=now.final_rewrites)
    assert SummaryState.objects.get().reconciled_through == now.final_through
