"""The exchange reports in the admin: the daily desk report by counter (page and CSV) and the monthly
exchange cost next to the points taken; a cancellation counts where it happened."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from exchange.services import exchange_cancel, exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, stock, tokyo

pytestmark = pytest.mark.django_db

DAILY = reverse("admin:exchange_report_daily")
MONTHLY = reverse("admin:exchange_report_monthly")
_keys = iter(range(1, 1000))


@pytest.fixture
def bank(programme):
    return CounterFactory(programme=programme, name="さくら銀行本店", position=2)


@pytest.fixture
def ticket(programme):
    return stock(
        ItemFactory(programme=programme, name="テーマパーク1日券", face_value_yen=7_400, price_points=5_200), 5
    )


@pytest.fixture
def day_at_the_desk(counter, bank, item, ticket, rich_member, staff):
    """1 June 2026: 2 rice vouchers and a ticket at the office, 1 rice voucher at the bank."""

    def exchange(at_counter, *lines, at=OPEN):
        return exchange_create(
            member=rich_member,
            counter=at_counter,
            lines=list(lines),
            staff=staff,
            idempotency_key=f"report-{next(_keys)}",
            at=at,
        )

    exchange(counter, (item, 2), (ticket, 1))
    exchange(bank, (item, 1), at=tokyo(2026, 6, 1, 11))
    return exchange


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def cells(page: str, row_id: str) -> list[str]:
    row = page.split(f'id="{row_id}"')[1].split("</tr>")[0]
    return [cell.split(">", 1)[1].split("<")[0] for cell in row.split('<td class="num"')[1:]]


def test_the_daily_report_gives_each_counter_its_figures(auditor_client, day_at_the_desk, counter, bank):
    page = auditor_client.get(DAILY, {"day": "2026-06-01"}).content.decode()

    # handed over, points, face value, returned x3, net x3
    assert cells(page, f"daily-counter-{counter.pk}") == [
        "3",
        "10,600",
        "13,400",
        "0",
        "0",
        "0",
        "3",
        "10,600",
        "13,400",
    ]
    assert cells(page, f"daily-counter-{bank.pk}") == ["1", "2,700", "3,000", "0", "0", "0", "1", "2,700", "3,000"]
    assert cells(page, "daily-total")[:3] == ["4", "13,300", "16,400"]
    assert "テーマパーク1日券" in page


def test_the_daily_report_of_one_counter(auditor_client, day_at_the_desk, bank):
    page = auditor_client.get(DAILY, {"day": "2026-06-01", "counter": bank.pk}).content.decode()

    assert cells(page, "daily-total")[:3] == ["1", "2,700", "3,000"]


def test_a_day_without_exchanges_says_so(auditor_client, day_at_the_desk):
    page = auditor_client.get(DAILY, {"day": "2026-06-02"}).content.decode()

    assert cells(page, "daily-total")[:3] == ["0", "0", "0"]


def test_the_daily_report_as_csv(auditor_client, day_at_the_desk, counter):
    response = auditor_client.get(DAILY, {"day": "2026-06-01", "format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="exchange-desk-20260601.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows[0]) == 12
    assert ["2026-06-01", counter.name, "おこめ券", "2", "5400", "6000", "0", "0", "0", "2", "5400", "6000"] in rows
    assert rows[-1][:2] == ["2026-06-01", ""]
    assert rows[-1][3:6] == ["4", "13300", "16400"]


def test_the_daily_report_in_shift_jis_for_older_spreadsheets(auditor_client, day_at_the_desk):
    response = auditor_client.get(DAILY, {"day": "2026-06-01", "format": "csv", "encoding": "cp932"})

    assert "おこめ券" in response.content.decode("cp932")
    assert "-sjis.csv" in response["Content-Disposition"]


def test_a_cancellation_comes_back_on_the_day_it_is_made(auditor_client, day_at_the_desk, counter, item, staff):
    done = day_at_the_desk(counter, (item, 1))
    exchange_cancel(exchange=done, staff=staff, reason="誤操作")
    today = timezone.localdate()

    first_day = auditor_client.get(DAILY, {"day": "2026-06-01"}).content.decode()
    cancelled_day = auditor_client.get(DAILY, {"day": today.isoformat()}).content.decode()

    assert cells(first_day, "daily-total")[:3] == ["5", "16,000", "19,400"]
    assert cells(cancelled_day, "daily-total") == ["0", "0", "0", "1", "2,700", "3,000", "-1", "-2,700", "-3,000"]


def test_the_monthly_cost_shows_face_value_next_to_points(auditor_client, day_at_the_desk, programme):
    page = auditor_client.get(MONTHLY, {"programme": programme.pk, "year": 2026, "month": 6}).content.decode()

    assert cells(page, "month-6")[:3] == ["4", "13,300", "16,400"]
    assert cells(page, "month-5")[:3] == ["0", "0", "0"]
    assert cells(page, "year-total")[:3] == ["4", "13,300", "16,400"]
    assert cells(page, "month-total")[:3] == ["4", "13,300", "16,400"]
    detail = page.split('id="monthly-detail"')[1]
    assert "おこめ券" in detail and "テーマパーク1日券" in detail


def test_the_monthly_cost_as_csv(auditor_client, day_at_the_desk, programme):
    response = auditor_client.get(MONTHLY, {"programme": programme.pk, "year": 2026, "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 12 + 1
    assert rows[6][:4] == ["2026-06", "4", "13300", "16400"]


def test_reports_need_the_permission_to_view_exchanges(client, day_at_the_desk):
    from stores.tests.factories import StaffFactory

    client.force_login(StaffFactory(username="nobody"))

    assert client.get(DAILY).status_code == 403
    assert client.get(MONTHLY).status_code == 403
