"""The reports in the admin: who may read them, what a company's staff see, the tables and their CSV."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from analytics.tests.helpers import TODAY, buy, member_card, pay, refresh, today_is
from loyalty.roles import SECRETARIAT
from points.models import StaffProgramme
from points.tests.factories import ProgrammeFactory, StoreFactory, join
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

REPORTS = ("pointsreport", "circulationreport", "membersreport", "promotionsreport")
MAY = datetime.date(2026, 5, 10)
QUERY = {"start": "2026-05-01", "end": TODAY.isoformat(), "by": "month"}


def url(report: str) -> str:
    return reverse(f"admin:analytics_{report}_report")


@pytest.fixture
def purchases(programme, store, other_store):
    """Six members buy at the store in May; one of them spends at the other store in June."""
    cards = [member_card(gender="female") for _ in range(6)]
    for card in cards:
        buy(card, store, MAY, amount_yen=3_000)
    pay(cards[0], other_store, datetime.date(2026, 6, 1), 7)
    refresh()
    return cards


def get(client, path, data=None):
    with today_is():
        return client.get(path, data or {}, HTTP_ACCEPT_LANGUAGE="ja")


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize("role_client", ["secretariat_client", "operator_client", "auditor_client"])
def test_each_role_reads_every_report(request, purchases, report, role_client):
    client = request.getfixturevalue(role_client)
    response = get(client, url(report), QUERY)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="analytics-chart"' in page and "analytics-table" in page
    assert "会員5名未満の集計は" in page


def test_the_index_leads_to_the_reports_under_analytics(secretariat_client):
    page = get(secretariat_client, reverse("admin:index")).content.decode()
    assert "分析" in page
    for report in REPORTS:
        assert f'href="{url(report)}"' in page
    assert "ポイントの発行・利用・残高" in page and "店舗間の回遊" in page


def test_staff_without_the_permission_are_refused(client, purchases):
    client.force_login(StaffFactory(username="nobody"))
    assert get(client, url("pointsreport"), QUERY).status_code == 403


def test_the_table_shows_the_months_and_the_small_groups(secretariat_client, purchases):
    page = get(secretariat_client, url("pointsreport"), QUERY).content.decode()
    assert "2026/05" in page and "2026/06" in page
    # the one spend is one member's
    assert "5名未満" in page
    assert "180" in page  # 6 × 30 points issued in May


def read_csv(response, encoding):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode(encoding))))


def test_the_csv_reads_back_in_utf8_with_a_bom(secretariat_client, purchases):
    response = get(secretariat_client, url("pointsreport"), {**QUERY, "format": "csv", "encoding": "utf-8"})

    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response, "utf-8-sig")
    assert rows[0][:4] == ["対象期間", "発行ポイント", "利用ポイント", "失効ポイント"]
    may, june, total = rows[1:]
    assert (may[0], may[1], june[2]) == ("2026/05", "180", "5名未満")
    assert total[0] == "合計"
    assert 'filename="points-20260501-20260630.csv"' in response["Content-Disposition"]


def test_the_csv_reads_back_in_shift_jis(secretariat_client, purchases):
    query = {**QUERY, "format": "csv", "encoding": "cp932", "table": "gaps"}
    response = get(secretariat_client, url("membersreport"), query)

    rows = read_csv(response, "cp932")
    assert rows[0] == ["前回来店からの日数", "来店数", "割合（%）"]
    assert "shift_jis" in response["Content-Type"]
    assert response["Content-Disposition"].endswith('-gaps-sjis.csv"')


def test_the_circulation_csv_lists_every_pair(secretariat_client, purchases, store, other_store):
    query = {**QUERY, "format": "csv", "table": "pairs", "level": "store", "side": "issued"}
    rows = read_csv(get(secretariat_client, url("circulationreport"), query), "utf-8-sig")
    assert rows[0][:3] == ["発行加盟店", "利用加盟店", "利用ポイント"]
    assert rows[1][:3] == [store.name, other_store.name, "5名未満"]


def test_the_table_sorts_and_pages(secretariat_client, purchases):
    query = {"start": "2026-05-01", "end": TODAY.isoformat(), "by": "day", "sort": "-issued"}
    table = get(secretariat_client, url("pointsreport"), query).content.decode().split('id="table-main"')[1]
    # the day with the purchases first, and a second page of days
    assert table.index("2026/05/10") < table.index("2026/05/01")
    assert "page=2" in table


def test_a_bad_period_is_refused_on_the_form(secretariat_client):
    page = get(secretariat_client, url("pointsreport"), {"start": "2026-06-01", "end": "2026-05-01"}).content.decode()
    assert "期間の終了日が開始日より前です。" in page
    assert 'class="analytics-chart"' not in page


# --- the firewall between companies ------------------------------------------------------------------


@pytest.fixture
def two_companies(purchases, programme):
    """Programme B (another company's) with its own store and purchases; staff who work for B only."""
    other = ProgrammeFactory(code="B", name="百貨店カード")
    shop = join(StoreFactory(name="百貨店本館"), other)
    for _ in range(5):
        buy(member_card(), shop, MAY, amount_yen=10_000)
    # Purchases recorded in the past (as only a test can): summarised again from then.
    refresh(first_day=MAY)
    staff = StaffFactory(username="b-staff", role=SECRETARIAT)
    StaffProgramme.objects.create(user=staff, programme=other)
    return other, shop, staff


def test_another_companys_staff_see_only_their_programme(client, two_companies, programme, store):
    other, shop, staff = two_companies
    client.force_login(staff)

    page = get(client, url("pointsreport"), QUERY).content.decode()
    # their own 5 × 100 points, and nothing of the first programme's 180
    assert ">500<" in page
    assert ">180<" not in page
    response = get(client, url("pointsreport"), {**QUERY, "format": "csv"})
    assert read_csv(response, "utf-8-sig")[1][1] == "500"
    # the first programme's store is not a choice, and its report page does not exist for them
    page = get(client, url("circulationreport"), {**QUERY, "level": "store"}).content.decode()
    assert shop.name in page and store.name not in page
    response = get(client, url("pointsreport"), {**QUERY, "store": store.pk})
    assert "store" in response.context_data["form"].errors
    change = reverse("admin:analytics_pointsreport_change", args=[programme.pk])
    assert get(client, change).status_code == 404
    assert get(client, reverse("admin:analytics_pointsreport_change", args=[other.pk])).status_code == 200


def test_the_groups_secretariat_reads_both_or_one(secretariat_client, two_companies, programme):
    other, _shop, _staff = two_companies
    both = read_csv(get(secretariat_client, url("pointsreport"), {**QUERY, "format": "csv"}), "utf-8-sig")
    assert both[1][1] == "680"
    one = read_csv(
        get(secretariat_client, url("pointsreport"), {**QUERY, "format": "csv", "programme": programme.pk}), "utf-8-sig"
    )
    assert one[1][1] == "180"
