"""分析 in the portal: a merchant's own stores' visits and points, figures against the ledger, the
five-member rule in the page and the CSV, and other merchants' stores only by category."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from analytics.selectors import ReportFilter, store_flows, store_visits
from analytics.selectors.stores import CATEGORY, OTHERS, OWN, SECRETARIAT, Flow, _flow_lines
from analytics.tests.helpers import buy, member_card, pay, refresh, today_is
from common.privacy import SMALL_GROUP
from points.models import Entry, LotUse
from points.tests.factories import join
from portal.tests.helpers import text_of
from stores.models import Store
from stores.tests.factories import MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db

D = datetime.date
PERIOD = {"start": "2026-04-01", "end": "2026-06-30", "by": "month"}


@pytest.fixture
def street(programme, merchant, store):
    """The merchant's bakery (`store`) and café; two other merchants' cafés, a bookshop and a florist.

    Eight regulars buy at the bakery in April and June; in June seven newcomers buy there (two of them on
    two days). In June the regulars spend points issued at the bakery: five at one other café, one at the
    second, one at the bookshop, one at the merchant's own café; five café customers spend points issued at
    the first café at the bakery."""
    cafe = join(StoreFactory(merchant=merchant, name="ひかりカフェ", category=Store.Category.CAFE), programme)
    cafe_a = join(StoreFactory(name="喫茶あおば", category=Store.Category.CAFE), programme)
    cafe_b = join(StoreFactory(name="喫茶みどり", category=Store.Category.CAFE), programme)
    bookshop = join(StoreFactory(name="さくら書店", category=Store.Category.BOOKSHOP), programme)
    join(StoreFactory(name="はな花店", category=Store.Category.FLORIST), programme)
    regulars = [member_card() for _ in range(8)]
    for month in (4, 6):
        for n, card in enumerate(regulars):
            buy(card, store, D(2026, month, 3 + n), amount_yen=2_000)
    newcomers = [member_card() for _ in range(7)]
    for n, card in enumerate(newcomers):
        buy(card, store, D(2026, 6, 12 + n))
    for card in newcomers[:2]:
        buy(card, store, D(2026, 6, 25))
    for card in regulars[:5]:
        pay(card, cafe_a, D(2026, 6, 20), 10)
    pay(regulars[5], cafe_b, D(2026, 6, 20), 10)
    pay(regulars[6], bookshop, D(2026, 6, 20), 10)
    pay(regulars[7], cafe, D(2026, 6, 20), 10)
    for _ in range(5):
        customer = member_card()
        buy(customer, cafe_a, D(2026, 5, 10))
        pay(customer, store, D(2026, 6, 22), 5)
    refresh(D(2026, 6, 30), first_day=D(2026, 4, 1))
    return {
        "bakery": store,
        "cafe": cafe,
        "cafe_a": cafe_a,
        "cafe_b": cafe_b,
        "bookshop": bookshop,
        "newcomers": newcomers,
    }


def the_filter(programme, stores) -> ReportFilter:
    """April to June by month."""
    return ReportFilter(
        start=D(2026, 4, 1),
        end=D(2026, 6, 30),
        by="month",
        programme_ids=frozenset({programme.pk}),
        store_ids=frozenset(each.pk for each in stores),
    )


# --- the figures against the ledger ----------------------------------------------------------------------


def ledger_visits(store_ids, first: D, last: D) -> dict:
    """Members, new members, repeaters and visits at the stores in [first, last], from the entries."""
    days: dict[int, set] = {}
    visits = 0
    for entry in Entry.objects.filter(kind=Entry.Kind.EARN, store_id__in=store_ids).select_related("account"):
        day = timezone.localdate(entry.recorded_at)
        if day <= last:
            days.setdefault(entry.account.member_id, set()).add((day, entry.store_id))
    members = new = repeaters = 0
    for visited in days.values():
        in_period = {day for day, _store in visited if day >= first}
        if not in_period:
            continue
        members += 1
        visits += len({(day, store) for day, store in visited if day >= first})
        earliest = min(day for day, _store in visited)
        new += earliest >= first
        repeaters += earliest < first or len(in_period) > 1
    return {"members": members, "new": new, "repeaters": repeaters, "visits": visits}


def test_visits_match_the_ledger(programme, street):
    own = [street["bakery"], street["cafe"]]
    by_month, whole = store_visits(the_filter(programme, own))

    june = ledger_visits({s.pk for s in own}, D(2026, 6, 1), D(2026, 6, 30))
    assert (by_month[D(2026, 6, 1)].members, by_month[D(2026, 6, 1)].new) == (june["members"], june["new"])
    assert (by_month[D(2026, 6, 1)].repeaters, by_month[D(2026, 6, 1)].visits) == (june["repeaters"], june["visits"])
    assert (june["members"], june["new"], june["repeaters"]) == (15, 7, 10)
    period = ledger_visits({s.pk for s in own}, D(2026, 4, 1), D(2026, 6, 30))
    assert (whole.members, whole.new, whole.repeaters, whole.visits) == (
        period["members"],
        period["new"],
        period["repeaters"],
        period["visits"],
    )
    assert by_month[D(2026, 4, 1)].new == 8
    assert by_month[D(2026, 6, 1)].returning == 8
    assert D(2026, 5, 1) not in by_month


def ledger_flows(store_ids, *, side: str) -> dict[int | None, int]:
    """Points spent in June taken from lots issued at (side "issued") or spent at ("spent") the stores, by
    the store at the other end."""
    found: dict = {}
    for use in LotUse.objects.filter(entry__kind=Entry.Kind.SPEND).select_related("entry", "lot"):
        issued_at, spent_at = use.lot.store_id, use.entry.store_id
        if side == "issued" and issued_at in store_ids:
            found[spent_at] = found.get(spent_at, 0) + use.points
        if side == "spent" and spent_at in store_ids:
            found[issued_at] = found.get(issued_at, 0) + use.points
    return found


def test_flows_match_the_ledger_with_other_merchants_by_category(programme, merchant, street):
    own = frozenset({street["bakery"].pk, street["cafe"].pk})
    flows = store_flows(the_filter(programme, [street["bakery"]]), own_store_ids=own)

    spent = {(flow.kind, flow.key): flow.points for flow in flows.spent_where}
    ledger = ledger_flows({street["bakery"].pk}, side="issued")
    assert spent == {
        (OWN, street["cafe"].pk): ledger[street["cafe"].pk],
        (CATEGORY, Store.Category.CAFE): ledger[street["cafe_a"].pk] + ledger[street["cafe_b"].pk],
        # the only other bookshop is not shown on its own, but with the florist
        (OTHERS, None): ledger[street["bookshop"].pk],
    }
    came = {(flow.kind, flow.key): (flow.points, flow.members) for flow in flows.came_from}
    assert came == {
        (CATEGORY, Store.Category.CAFE): (sum(ledger_flows({street["bakery"].pk}, side="spent").values()), 5)
    }
    assert {flow.name for flow in flows.spent_where} == {"ひかりカフェ", "他店舗：カフェ", "他店舗：その他の業種"}


def test_a_lone_hidden_line_hides_the_smallest_shown_one_too():
    # Given a total about five members, one line about five and two about two (one of them hidden alone
    # would be the total less the others)
    flows = [
        Flow(OWN, 1, "ひかりカフェ", 100, 5),
        Flow(CATEGORY, "cafe", "他店舗：カフェ", 60, 5),
        Flow(SECRETARIAT, None, "事務局", 7, 2),
    ]

    lines, total = _flow_lines(flows)

    assert total.points == 167
    assert [line.points for line in lines] == [100, SMALL_GROUP, SMALL_GROUP]


# --- the page and its CSV ------------------------------------------------------------------------------


def test_the_page_shows_the_period_and_hides_small_groups(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/", PERIOD)

    assert response.status_code == 200
    totals = text_of(response, "analytics-totals")
    # fifteen members, all new in the period, ten of them came on two days
    assert totals == "来店会員数 15 新規会員 15 再来店会員 0 リピート率 66.7%"
    spent = text_of(response, "table-spent")
    assert "他店舗：カフェ" in spent and "60" in spent
    assert "5名未満" in spent  # the bookshop's one member, the own café's one
    assert "さくら書店" not in response.content.decode()
    assert "喫茶あおば" not in response.content.decode()
    for chart in ("store-members-chart", "store-repeat-chart", "store-spent-where-chart", "store-came-from-chart"):
        assert f'id="{chart}"' in response.content.decode()


def test_the_store_choice_offers_the_merchants_own_stores_only(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/", PERIOD)

    assert text_of(response, "analytics-stores") == "すべての店舗 ひかりベーカリー ひかりカフェ"
    link = f'href="/portal/analytics/stores/{street["cafe"].pk}/?start=2026-04-01&amp;end=2026-06-30&amp;by=month"'
    assert link in response.content.decode()


def test_the_default_period_is_this_month(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/")

    assert text_of(response, "analytics-period") == "2026/06/01〜2026/06/30"


def test_one_store_of_the_merchant_is_reported_alone(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get(f"/portal/analytics/stores/{street['cafe'].pk}/", PERIOD)

    assert response.status_code == 200
    assert "ひかりベーカリー" in text_of(response, "table-came")
    # one member spent the bakery's points at the café: hidden
    assert "5名未満" in text_of(response, "table-came")
    assert text_of(response, "analytics-totals").count("0") >= 3


def test_another_merchants_store_answers_404(portal_client, street):
    assert portal_client.get(f"/portal/analytics/stores/{street['cafe_a'].pk}/", PERIOD).status_code == 404


def test_a_period_that_ends_before_it_starts_is_refused(portal_client, street):
    response = portal_client.get("/portal/analytics/", {"start": "2026-06-30", "end": "2026-06-01", "by": "month"})

    assert response.status_code == 200
    assert "期間の終了日が開始日より前です。" in response.content.decode()
    assert 'id="analytics-totals"' not in response.content.decode()


def read_csv(response, codec: str) -> list[list[str]]:
    return list(
        csv.reader(
            io.StringIO(
                b"".join(response.streaming_content if response.streaming else [response.content]).decode(codec)
            )
        )
    )


def test_the_csv_reads_back_with_the_five_member_rule(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get(
            "/portal/analytics/", {**PERIOD, "format": "csv", "table": "spent", "encoding": "cp932"}
        )

    assert response["Content-Type"] == "text/csv; charset=shift_jis"
    assert "analytics-all-20260401-20260630-spent-sjis.csv" in response["Content-Disposition"]
    rows = read_csv(response, "cp932")
    assert rows[0] == ["利用先", "利用ポイント", "割合（%）"]
    by_name = {row[0]: row[1:] for row in rows[1:]}
    assert by_name["他店舗：カフェ"][0] == "60"
    assert by_name["他店舗：その他の業種"] == ["5名未満", "5名未満"]
    assert by_name["合計"][0] == "80"


def test_the_visits_csv_lists_every_month_and_the_total(portal_client, street):
    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/", {**PERIOD, "format": "csv", "table": "visits"})

    rows = read_csv(response, "utf-8-sig")
    assert [row[0] for row in rows[1:]] == ["2026/04", "2026/05", "2026/06", "合計"]
    assert rows[3][1:5] == ["15", "7", "8", "66.7"]


def test_a_share_whose_rest_is_under_five_members_is_hidden(portal_client, programme, street):
    # Given three more of June's newcomers come back on another day: thirteen of fifteen came on two days
    # or more, and the rate would tell that two did not
    for card in street["newcomers"][2:5]:
        buy(card, street["bakery"], D(2026, 6, 27))
    refresh(D(2026, 6, 30), first_day=D(2026, 6, 1))

    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/", {**PERIOD, "format": "csv", "table": "visits"})

    june = read_csv(response, "utf-8-sig")[3]
    assert june[1:5] == ["15", "7", "8", "5名未満"]


def test_by_day_a_day_of_one_member_is_hidden(portal_client, street):
    query = {"start": "2026-06-01", "end": "2026-06-10", "by": "day", "format": "csv", "table": "visits"}
    with today_is(D(2026, 6, 30)):
        response = portal_client.get("/portal/analytics/", query)

    june_3 = next(row for row in read_csv(response, "utf-8-sig") if row[0] == "2026/06/03")
    assert june_3[1:] == ["5名未満"] * 6


def test_an_unknown_table_or_encoding_answers_404(portal_client, street):
    assert portal_client.get("/portal/analytics/", {**PERIOD, "format": "csv", "table": "members"}).status_code == 404
    assert (
        portal_client.get("/portal/analytics/", {**PERIOD, "format": "csv", "encoding": "latin-1"}).status_code == 404
    )


def test_a_merchant_with_no_store_sees_an_empty_report(client, db):
    from portal.tests.conftest import make_merchant_user

    client.force_login(make_merchant_user(MerchantFactory(), username="empty"))

    response = client.get("/portal/analytics/")

    assert response.status_code == 200


def test_a_store_with_no_points_spent_says_so(portal_client, programme, merchant, street):
    quiet = join(StoreFactory(merchant=merchant, name="ひかり花店", category=Store.Category.FLORIST), programme)

    with today_is(D(2026, 6, 30)):
        response = portal_client.get(f"/portal/analytics/stores/{quiet.pk}/", PERIOD)

    assert text_of(response, "spent-none") == "この期間に利用された、これらの店舗のポイントはありません。"
    assert 'id="store-spent-where-chart"' not in response.content.decode()


def test_other_categories_never_stand_for_one_store(programme, merchant, store):
    # Given two other cafés and a single other bookshop: the bookshop alone would be "other categories"
    from analytics.selectors.stores import _other_store_groups

    for _ in range(2):
        join(StoreFactory(category=Store.Category.CAFE), programme)
    join(StoreFactory(category=Store.Category.BOOKSHOP), programme)

    _categories, shown = _other_store_groups([programme.pk], frozenset({store.pk}))

    # Then the cafés join it
    assert shown == set()


def test_a_category_of_two_other_stores_is_shown_beside_two_folded_ones(programme, merchant, store):
    from analytics.selectors.stores import _other_store_groups

    for category in (Store.Category.CAFE, Store.Category.CAFE, Store.Category.BOOKSHOP, Store.Category.FLORIST):
        join(StoreFactory(category=category), programme)

    _categories, shown = _other_store_groups([programme.pk], frozenset({store.pk}))

    assert shown == {Store.Category.CAFE}
