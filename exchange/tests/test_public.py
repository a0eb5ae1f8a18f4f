"""The public catalogue at /exchange/: no login, a page a member reads on a phone, with the items, their
price and face value, whether any are left, the limits, where to collect and the next window."""

import datetime

import pytest
from django.utils import dateformat, translation

from exchange import views
from exchange.models import Counter
from exchange.services import exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, stock, tokyo
from points.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

URL = "/exchange/"
# Saturday 6 June 2026: the counters reopen on Monday 8 June at 9:00.
SATURDAY = tokyo(2026, 6, 6, 10)


@pytest.fixture(autouse=True)
def page_clock(monkeypatch):
    moments = {"now": SATURDAY}
    monkeypatch.setattr(views, "catalogue_now", lambda: moments["now"])
    return moments


@pytest.fixture
def catalogue(programme, counter, item):
    """The rice vouchers (10 in stock), a ticket with 3 left and limits, and parking tickets run out."""
    ticket = stock(
        ItemFactory(
            programme=programme,
            name="テーマパーク1日券",
            face_value_yen=7_400,
            price_points=5_200,
            limit_per_member_window=2,
            limit_per_member_year=4,
        ),
        3,
    )
    parking = ItemFactory(programme=programme, name="駐車券", face_value_yen=0, price_points=1_600)
    return {"rice": item, "ticket": ticket, "parking": parking}


def item_card(page: str, item) -> str:
    return page.split(f'id="item-{item.pk}"')[1].split("</article>")[0]


def test_anyone_can_read_the_catalogue_without_logging_in(client, catalogue):
    response = client.get(URL)

    assert response.status_code == 200
    assert 'name="viewport"' in response.content.decode()


def test_each_item_shows_its_price_face_value_and_whether_any_are_left(client, catalogue):
    page = client.get(URL).content.decode()

    rice, ticket, parking = (item_card(page, catalogue[name]) for name in ("rice", "ticket", "parking"))
    assert "おこめ券" in rice and "2,700" in rice and "3,000" in rice and 'class="badge in"' in rice
    assert "5,200" in ticket and "7,400" in ticket and 'class="badge few"' in ticket
    assert 'class="badge out"' in parking


def test_stock_states_read_in_japanese(client, catalogue):
    with translation.override("ja"):
        labels = {views.stock_state(n).label for n in (0, 3, 10)}

    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    # Three distinct labels, none of them the English source text, all on the page.
    assert len(labels) == 3 and not labels & {"Out of stock", "Few left", "In stock"}
    assert all(label in page for label in labels)


def test_an_item_shows_its_limits_and_where_to_collect_it(client, catalogue, programme, counter):
    bank = CounterFactory(programme=programme, name="さくら銀行本店")
    catalogue["ticket"].counters.add(bank)

    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    ticket = item_card(page, catalogue["ticket"])
    assert "お一人様 各交換期間 2 点まで" in ticket and "お一人様 年間 4 点まで" in ticket
    assert "さくら銀行本店" in ticket and counter.name not in ticket
    assert counter.name not in item_card(page, catalogue["rice"]).split("<ul")[0]


def test_the_page_names_the_next_opening_and_the_counters_hours(client, catalogue, counter):
    with translation.override("ja"):
        reopens = dateformat.format(tokyo(2026, 6, 8, 9), translation.gettext("M j, Y (D) H:i"))

    page = client.get(URL).content.decode()

    window = page.split('id="next-window"')[1].split("</div>")[0]
    assert reopens in window
    hours = page.split(f'id="counter-{counter.pk}"')[1].split("</div>")[0]
    assert counter.address in hours
    assert "09:00–17:00" in hours


def test_within_the_window_the_page_says_it_is_open(client, catalogue, page_clock):
    page_clock["now"] = OPEN

    page = client.get(URL).content.decode()

    assert 'class="card window"' in page
    assert 'class="card window closed"' not in page


def test_first_come_items_count_what_is_already_taken(client, programme, counter, rich_member, staff, page_clock):
    scarce = stock(ItemFactory(programme=programme, name="図書カード", first_come_per_window=3), 50)
    exchange_create(
        member=rich_member, counter=counter, lines=[(scarce, 3)], staff=staff, idempotency_key="fc", at=OPEN
    )

    page = client.get(URL).content.decode()

    assert 'class="badge out"' in item_card(page, scarce)


def test_inactive_and_future_items_are_not_shown(client, programme, counter):
    hidden = stock(ItemFactory(programme=programme, name="旧商品券", is_active=False), 5)
    later = stock(ItemFactory(programme=programme, name="年末福袋", active_from=datetime.date(2026, 12, 1)), 5)

    page = client.get(URL).content.decode()

    assert hidden.name not in page and later.name not in page


def test_several_programmes_each_have_their_section(client, catalogue, programme):
    other = ProgrammeFactory(code="RAIL", name="つばめ鉄道ポイント")
    Counter.objects.create(programme=other, name="駅前案内所")

    page = client.get(URL).content.decode()

    assert f'id="programme-{programme.code}"' in page and 'id="programme-RAIL"' in page
    assert "つばめ鉄道ポイント" in client.get("/exchange/RAIL/").content.decode()
    assert client.get("/exchange/NOPE/").status_code == 404


def test_the_page_only_reads(client, catalogue):
    assert client.post(URL).status_code == 405
