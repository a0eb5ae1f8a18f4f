"""The exchange's admin around the desk: the catalogue pages, stock received and written off through the
services, the list of exchanges found by serial, and cancelling one with a reason."""

import pytest
from django.urls import reverse
from django.utils import translation

from exchange.admin.catalogue import local_moment
from exchange.models import Exchange, Item, StockMove
from exchange.services import exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import ItemFactory, stock
from exchange.windows import next_opening

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def exchanged(counter, item, rich_member, staff):
    return exchange_create(
        member=rich_member, counter=counter, lines=[(item, 2)], staff=staff, idempotency_key="admin-1", at=OPEN
    )


@pytest.mark.parametrize("model", ["counter", "windowrule", "item", "exchange", "stockmove"])
def test_every_list_opens(staff_client, exchanged, model):
    assert staff_client.get(reverse(f"admin:exchange_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", ["counter", "windowrule", "item"])
def test_catalogue_settings_can_be_added(staff_client, model):
    assert staff_client.get(reverse(f"admin:exchange_{model}_add")).status_code == 200


def test_the_item_list_shows_stock_and_the_next_window(staff_client, item, counter, programme):
    with translation.override("ja"):
        expected = local_moment(next_opening(programme, None))

    page = staff_client.get(reverse("admin:exchange_item_changelist")).content.decode()

    row = page.split('id="result_list"')[1].split("</tr>")[1]
    assert "おこめ券" in row and ">10<" in row
    assert expected in row


def test_the_item_page_lists_its_stock_moves_read_only(staff_client, exchanged, item):
    page = staff_client.get(reverse("admin:exchange_item_change", args=[item.pk])).content.decode()

    assert 'id="item-receive"' in page and 'id="item-write-off"' in page
    assert "EX-2026-000001" in page
    assert 'name="stock_moves-0-quantity"' not in page


def test_stock_received_through_the_form(staff_client, item, staff):
    response = staff_client.post(
        reverse("admin:exchange_item_receive", args=[item.pk]), {"quantity": "5", "reason": "納品書 No.123"}
    )

    item.refresh_from_db()
    assert response.status_code == 302
    assert item.stock_on_hand == 15
    move = StockMove.objects.filter(item=item).first()
    assert (move.kind, move.quantity, move.reason, move.staff) == ("received", 5, "納品書 No.123", staff)


def test_a_write_off_needs_a_reason(staff_client, item):
    response = staff_client.post(reverse("admin:exchange_item_write_off", args=[item.pk]), {"quantity": "1"})

    item.refresh_from_db()
    assert response.status_code == 200 and item.stock_on_hand == 10


def test_more_than_in_stock_cannot_be_written_off(staff_client, item):
    response = staff_client.post(
        reverse("admin:exchange_item_write_off", args=[item.pk]), {"quantity": "11", "reason": "破損"}
    )

    item.refresh_from_db()
    assert 'class="errornote"' in response.content.decode()
    assert item.stock_on_hand == 10


def test_stock_written_off_with_a_reason(staff_client, item):
    staff_client.post(reverse("admin:exchange_item_write_off", args=[item.pk]), {"quantity": "2", "reason": "破損"})

    item.refresh_from_db()
    assert item.stock_on_hand == 8
    assert StockMove.objects.filter(item=item, kind="written_off", quantity=-2, reason="破損").exists()


def test_the_list_action_opens_the_stock_form_of_the_chosen_item(staff_client, item):
    response = staff_client.post(
        reverse("admin:exchange_item_changelist"), {"action": "receive_stock", "_selected_action": [item.pk]}
    )

    assert response.url == reverse("admin:exchange_item_receive", args=[item.pk])


def test_the_stock_count_cannot_be_edited_on_the_item_form(staff_client, item):
    page = staff_client.get(reverse("admin:exchange_item_change", args=[item.pk])).content.decode()

    assert 'name="stock_on_hand"' not in page


def test_auditors_cannot_receive_stock(auditor_client, item):
    moves = StockMove.objects.filter(item=item).count()
    url = reverse("admin:exchange_item_receive", args=[item.pk])

    assert auditor_client.get(url).status_code == 403
    assert auditor_client.post(url, {"quantity": "5", "reason": "x"}).status_code == 403
    assert Item.objects.get(pk=item.pk).stock_on_hand == 10
    assert StockMove.objects.filter(item=item).count() == moves


def test_an_exchange_is_found_by_its_serial_typed_in_lower_case(staff_client, exchanged):
    page = staff_client.get(reverse("admin:exchange_exchange_changelist"), {"q": "ex-2026-000001"}).content.decode()

    assert "EX-2026-000001" in page.split('id="result_list"')[1]


def test_the_exchange_list_filters_by_status(staff_client, exchanged, counter, item, rich_member, staff):
    exchange_create(
        member=rich_member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="r", at=OPEN, reserve=True
    )

    page = staff_client.get(reverse("admin:exchange_exchange_changelist"), {"status__exact": "reserved"})

    rows = page.content.decode().split('id="result_list"')[1].split("</table>")[0]
    assert "EX-2026-000002" in rows and "EX-2026-000001" not in rows


def test_the_exchange_page_shows_its_lines_the_slip_and_the_cancel_button(staff_client, exchanged):
    page = staff_client.get(reverse("admin:exchange_exchange_change", args=[exchanged.pk])).content.decode()

    assert "おこめ券" in page
    assert reverse("admin:exchange_exchange_slip", args=[exchanged.pk]) in page
    assert 'id="exchange-cancel"' in page


def test_auditors_see_the_exchange_but_cannot_cancel_it(auditor_client, exchanged):
    page = auditor_client.get(reverse("admin:exchange_exchange_change", args=[exchanged.pk])).content.decode()

    assert 'id="exchange-cancel"' not in page
    assert auditor_client.get(reverse("admin:exchange_exchange_cancel", args=[exchanged.pk])).status_code == 403


def test_cancelling_asks_for_a_reason(staff_client, exchanged):
    response = staff_client.post(reverse("admin:exchange_exchange_cancel", args=[exchanged.pk]), {"reason": ""})

    exchanged.refresh_from_db()
    assert response.status_code == 200
    assert exchanged.status == Exchange.Status.HANDED_OVER


def test_cancelling_returns_points_and_goods(staff_client, exchanged, item):
    response = staff_client.post(
        reverse("admin:exchange_exchange_cancel", args=[exchanged.pk]), {"reason": "会員の申し出"}
    )

    exchanged.refresh_from_db()
    item.refresh_from_db()
    assert response.url == reverse("admin:exchange_exchange_change", args=[exchanged.pk])
    assert (exchanged.status, exchanged.cancel_reason) == (Exchange.Status.CANCELLED, "会員の申し出")
    assert item.stock_on_hand == 10


def test_a_cancelled_exchange_cannot_be_cancelled_again(staff_client, exchanged):
    url = reverse("admin:exchange_exchange_cancel", args=[exchanged.pk])
    staff_client.post(url, {"reason": "会員の申し出"})

    page = staff_client.get(url).content.decode()

    assert 'id="cancel-form"' not in page
    assert (
        'id="exchange-cancel"'
        not in staff_client.get(reverse("admin:exchange_exchange_change", args=[exchanged.pk])).content.decode()
    )


def test_an_item_page_shows_its_own_moves_however_busy_other_items_are(staff_client, item, programme):
    busy = stock(ItemFactory(programme=programme, name="駐車券"), 1)
    for _ in range(35):
        stock(busy, 1)

    page = staff_client.get(reverse("admin:exchange_item_change", args=[item.pk])).content.decode()
    busy_page = staff_client.get(reverse("admin:exchange_item_change", args=[busy.pk])).content.decode()

    assert 'name="stock_moves-TOTAL_FORMS" value="1"' in page
    assert 'name="stock_moves-TOTAL_FORMS" value="30"' in busy_page


def test_an_item_with_stock_moves_can_be_edited(staff_client, item, programme, counter):
    url = reverse("admin:exchange_item_change", args=[item.pk])
    data = {
        "programme": programme.pk,
        "name": "おこめ券（新）",
        "description": "",
        "face_value_yen": "3000",
        "price_points": "2800",
        "position": "0",
        "is_active": "on",
        "counters": [counter.pk],
        "stock_moves-TOTAL_FORMS": "1",
        "stock_moves-INITIAL_FORMS": "1",
        "stock_moves-MIN_NUM_FORMS": "0",
        "stock_moves-MAX_NUM_FORMS": "0",
        "stock_moves-0-id": str(item.stock_moves.get().pk),
        "stock_moves-0-item": str(item.pk),
    }

    response = staff_client.post(url, data)

    item.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (item.name, item.price_points, item.stock_on_hand) == ("おこめ券（新）", 2800, 10)
    assert list(item.counters.all()) == [counter]
