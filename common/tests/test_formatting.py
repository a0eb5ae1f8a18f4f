"""Amounts with separators and units, and one date style, in the lists the secretariat reads."""

import datetime
import re

import pytest
from django.utils import timezone, translation

from common.formatting import date_text, datetime_text, grouped, points_text, yen_text
from points.tests.factories import ProgrammeFactory, join, make_card
from stores.tests.factories import StoreFactory
from till.tests.helpers import till_buy


def test_amounts_have_separators_and_units():
    with translation.override("ja"):
        assert (yen_text(3144), yen_text(492071), points_text(254)) == ("3,144円", "492,071円", "254 pt")
        assert points_text(-1234, signed=True) == "-1,234 pt"
        assert points_text(1234, signed=True) == "+1,234 pt"
    assert grouped(None) == "" and yen_text("x") == ""


def test_dates_have_one_style():
    moment = datetime.datetime(2026, 12, 2, 15, 5, tzinfo=datetime.UTC)  # 00:05 on the 3rd in Tokyo
    assert date_text(datetime.date(2026, 12, 3)) == "2026/12/03"
    assert date_text(moment) == "2026/12/03"
    assert datetime_text(moment) == "2026/12/03 00:05"


@pytest.mark.django_db
def test_the_ledger_list_shows_points_and_yen_with_units_and_dates_in_one_style(superuser_client):
    # given a purchase of 3,144 yen
    programme = ProgrammeFactory()
    store = join(StoreFactory(earn_rate_bp=100), programme)
    receipt = till_buy(make_card(), store, amount_yen=3_144)
    entry = receipt.posting.entries[0]

    # when
    page = superuser_client.get("/admin/points/entry/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    # then
    row = re.search(r"<tr>.*?</tr>", page.split("<tbody>")[1], re.S).group(0)
    assert '<td class="field-amount_yen">3,144円</td>' in row
    assert f'<td class="field-points">{entry.points:,} pt</td>' in row
    assert timezone.localtime(entry.recorded_at).strftime("%Y/%m/%d %H:%M") in row
    assert not re.search(r">\s*3144\s*<", row)
