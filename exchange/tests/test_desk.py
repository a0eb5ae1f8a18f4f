"""The desk over HTTP, as staff use it: find the member by card or phone, see the balance and the limits,
choose, confirm, and see the serial; refusals in words; a double submit exchanges once; overriding a
window needs the permission; reservations taken and collected from the same screen."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import formats, timezone, translation

from exchange import errors
from exchange.admin import desk
from exchange.models import Exchange
from exchange.services import exchange_create
from exchange.tests.conftest import OPEN
from exchange.tests.factories import CounterFactory, ItemFactory, give_points, stock, tokyo
from members.tests.factories import CardFactory, MemberFactory
from points.models import Account
from stores.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

DESK = reverse("admin:exchange_desk")
# Saturday 6 June 2026: inside the dates of the window, but not a weekday; it reopens on Monday 8 June at 9:00.
SATURDAY = tokyo(2026, 6, 6, 10)
KEY_RE = re.compile(r'name="idempotency_key" value="(desk-[0-9a-f]{32})"')


@pytest.fixture(autouse=True)
def desk_clock(monkeypatch):
    """The desk's clock, set to a moment inside the window unless a test moves it."""
    moments = {"now": OPEN}
    monkeypatch.setattr(desk, "desk_now", lambda: moments["now"])
    return moments


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def card(rich_member):
    return CardFactory(member=rich_member)


def member_url(member) -> str:
    return reverse("admin:exchange_desk_member", args=[member.pk])


def basket_key(client, member) -> str:
    """The idempotency key the desk put into the basket when it showed it."""
    return KEY_RE.search(client.get(member_url(member)).content.decode()).group(1)


def basket(counter, key, *lines, **extra) -> dict:
    data = {"counter": counter.pk, "idempotency_key": key, **extra}
    data.update({f"qty_{item.pk}": quantity for item, quantity in lines})
    return data


def exchange_over_http(client, member, counter, *lines, **extra):
    data = basket(counter, basket_key(client, member), *lines, **extra)
    return client.post(reverse("admin:exchange_desk_exchange", args=[member.pk]), data)


def page_text(response) -> str:
    return response.content.decode()


def balance(member, programme) -> int:
    return Account.objects.get(member=member, programme=programme).balance


# --- finding the member -----------------------------------------------------------------------


def test_the_desk_opens_with_the_card_field_focused(staff_client, counter):
    page = page_text(staff_client.get(DESK))

    assert re.search(r'<input[^>]*name="card"[^>]*autofocus|<input[^>]*autofocus[^>]*name="card"', page)
    assert counter.name in page


def test_a_card_read_by_the_reader_opens_the_member_with_balance_and_items(staff_client, counter, item, card):
    # The reader types the number and Enter, which submits the card form.
    found = staff_client.post(DESK, {"card": card.number})

    assert found.status_code == 302 and found.url == member_url(card.member)
    page = page_text(staff_client.get(found.url))
    assert card.member.pseudonym in page
    assert card.number_last4 in page
    assert 'id="desk-balance">20,000 pt' in page
    assert item.name in page and "2,700" in page


def test_a_card_number_typed_with_spaces_is_found(staff_client, counter, card):
    typed = " ".join(card.number[i : i + 4] for i in range(0, 16, 4))

    found = staff_client.post(DESK, {"card": typed})

    assert found.status_code == 302 and found.url == member_url(card.member)


def test_an_unknown_card_is_said_so(staff_client, counter):
    page = staff_client.post(DESK, {"card": "9999999999999999"})

    assert page.status_code == 200
    assert 'class="errornote"' in page_text(page)
    assert Exchange.objects.count() == 0


def test_a_blocked_card_is_not_used(staff_client, counter, card):
    from members.services import card_block

    card_block(card=card, note="lost")

    page = staff_client.post(DESK, {"card": card.number})

    assert page.status_code == 200 and 'class="errornote"' in page_text(page)


def test_the_member_is_found_by_phone_however_it_is_typed(staff_client, counter):
    member = MemberFactory(phone="090-1234-5678")

    found = staff_client.post(DESK, {"phone": "０９０ １２３４ ５６７８"})

    assert found.status_code == 302 and found.url == member_url(member)


def test_two_members_on_one_phone_are_listed_to_choose_from(staff_client, counter):
    first, second = MemberFactory(phone="03-1111-2222"), MemberFactory(phone="0311112222")

    page = page_text(staff_client.post(DESK, {"phone": "03-1111-2222"}))

    assert first.pseudonym in page and second.pseudonym in page


def test_the_counter_chosen_last_is_remembered(staff_client, counter, programme):
    bank = CounterFactory(programme=programme, name="さくら銀行本店", position=5)

    staff_client.get(DESK, {"counter": bank.pk})
    page = page_text(staff_client.get(DESK))

    assert re.search(rf'<option value="{bank.pk}" selected>', page)


def test_the_desk_needs_the_permission_to_exchange(client, auditor, counter):
    client.force_login(auditor)

    assert client.get(DESK).status_code == 403


def test_the_app_index_links_to_the_desk(staff_client):
    page = page_text(staff_client.get(reverse("admin:app_list", args=["exchange"])))

    assert DESK in page


# --- limits, confirming and exchanging -----------------------------------------------------------


def test_the_desk_shows_the_limits_left(staff_client, counter, programme, rich_member, staff):
    limited = stock(ItemFactory(programme=programme, name="図書カード", limit_per_member_window=2), 5)
    exchange_create(
        member=rich_member, counter=counter, lines=[(limited, 1)], staff=staff, idempotency_key="before", at=OPEN
    )

    page = page_text(staff_client.get(member_url(rich_member)))

    with translation.override("ja"):
        one_left = translation.gettext("%(n)s this window") % {"n": 1}
    row = page.split(f'id="desk-item-{limited.pk}"')[1].split("</tr>")[0]
    assert one_left in row
    assert '<td class="num">4</td>' in row  # in stock
    assert '<td class="num">1</td>' in row  # can take


def test_confirming_shows_the_total_and_the_balance_after(staff_client, counter, item, rich_member):
    data = basket(counter, basket_key(staff_client, rich_member), (item, 2))

    page = page_text(staff_client.post(reverse("admin:exchange_desk_confirm", args=[rich_member.pk]), data))

    assert 'id="confirm-points">5,400<' in page
    assert 'id="confirm-balance-after">14,600<' in page
    assert 'id="confirm-exchange"' in page
    assert Exchange.objects.count() == 0


def test_confirming_without_enough_points_offers_no_confirm_button(staff_client, counter, item, member, programme):
    give_points(member, programme, 3_000)
    data = basket(counter, basket_key(staff_client, member), (item, 2))

    page = page_text(staff_client.post(reverse("admin:exchange_desk_confirm", args=[member.pk]), data))

    assert 'id="confirm-not-enough"' in page
    assert 'id="confirm-exchange"' not in page


def test_an_empty_basket_is_not_confirmed(staff_client, counter, item, rich_member):
    data = basket(counter, basket_key(staff_client, rich_member), (item, 0))

    response = staff_client.post(reverse("admin:exchange_desk_confirm", args=[rich_member.pk]), data)

    assert 'id="basket-form"' in page_text(response)
    assert 'id="confirm-exchange"' not in page_text(response)


def test_exchanging_hands_over_and_shows_the_serial(staff_client, counter, item, rich_member, programme):
    response = exchange_over_http(staff_client, rich_member, counter, (item, 2))

    made = Exchange.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:exchange_desk_done", args=[made.pk])
    done = page_text(staff_client.get(response.url))
    assert 'id="desk-serial">EX-2026-000001<' in done
    assert reverse("admin:exchange_exchange_slip", args=[made.pk]) in done
    assert 'id="desk-done-balance">14,600<' in done
    assert (made.status, made.points, made.member) == (Exchange.Status.HANDED_OVER, 5_400, rich_member)
    item.refresh_from_db()
    assert item.stock_on_hand == 8
    assert balance(rich_member, programme) == 14_600


def test_a_double_submit_exchanges_once(staff_client, counter, item, rich_member, programme):
    data = basket(counter, basket_key(staff_client, rich_member), (item, 1))
    url = reverse("admin:exchange_desk_exchange", args=[rich_member.pk])

    first = staff_client.post(url, data)
    second = staff_client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Exchange.objects.count() == 1
    assert balance(rich_member, programme) == 20_000 - 2_700


def test_each_showing_of_the_basket_has_its_own_key(staff_client, counter, item, rich_member):
    assert basket_key(staff_client, rich_member) != basket_key(staff_client, rich_member)


def test_a_key_of_another_members_exchange_does_not_show_it(staff_client, counter, item, rich_member, programme):
    other = MemberFactory()
    give_points(other, programme, 10_000)
    data = basket(counter, basket_key(staff_client, rich_member), (item, 1))
    staff_client.post(reverse("admin:exchange_desk_exchange", args=[rich_member.pk]), data)

    response = staff_client.post(reverse("admin:exchange_desk_exchange", args=[other.pk]), data)

    assert response.url == member_url(other)
    assert Exchange.objects.count() == 1
    assert balance(other, programme) == 10_000


# --- refusals ------------------------------------------------------------------------------------


def test_outside_a_window_the_desk_says_when_it_opens_next(staff_client, counter, item, rich_member, desk_clock):
    desk_clock["now"] = SATURDAY

    response = exchange_over_http(staff_client, rich_member, counter, (item, 1))

    page = page_text(response)
    reopens = formats.date_format(timezone.localtime(tokyo(2026, 6, 8, 9)), "DATETIME_FORMAT")
    assert response.status_code == 200
    assert str(errors.OutsideWindow(next_opening=tokyo(2026, 6, 8, 9))) in page
    assert reopens in page
    assert Exchange.objects.count() == 0


def test_the_desk_shows_it_is_outside_a_window_before_anyone_tries(staff_client, counter, rich_member, desk_clock):
    desk_clock["now"] = SATURDAY

    page = page_text(staff_client.get(member_url(rich_member)))

    assert 'class="desk-closed" id="desk-window"' in page
    assert "2026/06/08" in page and "09:00" in page


def test_not_enough_points_is_refused_in_words(staff_client, counter, item, member, programme):
    give_points(member, programme, 1_000)

    response = exchange_over_http(staff_client, member, counter, (item, 1))

    with translation.override("ja"):
        from points.errors import InsufficientPoints

        message = str(InsufficientPoints())
    assert response.status_code == 200
    assert message in page_text(response)
    assert Exchange.objects.count() == 0
    assert balance(member, programme) == 1_000


def test_a_limit_reached_is_refused_naming_the_item(staff_client, counter, programme, rich_member):
    limited = stock(ItemFactory(programme=programme, name="テーマパーク1日券", limit_per_member_window=1), 5)

    response = exchange_over_http(staff_client, rich_member, counter, (limited, 2))

    page = page_text(response)
    assert "テーマパーク1日券" in page.split('class="messagelist"')[1].split("</ul>")[0]
    assert Exchange.objects.count() == 0


def test_more_than_in_stock_is_refused(staff_client, counter, programme, rich_member):
    scarce = stock(ItemFactory(programme=programme, name="駐車券", price_points=1_600), 1)

    response = exchange_over_http(staff_client, rich_member, counter, (scarce, 2))

    assert "駐車券" in page_text(response).split('class="messagelist"')[1]
    assert Exchange.objects.count() == 0


# --- overriding the window -------------------------------------------------------------------------


def test_staff_with_the_permission_exchange_outside_a_window_with_a_reason(
    staff_client, counter, item, rich_member, desk_clock
):
    desk_clock["now"] = SATURDAY
    assert 'name="override_reason"' in page_text(staff_client.get(member_url(rich_member)))

    response = exchange_over_http(staff_client, rich_member, counter, (item, 1), override_reason="入院中のため代理受取")

    assert response.status_code == 302
    assert Exchange.objects.get().override_reason == "入院中のため代理受取"


def test_staff_without_the_permission_see_no_override_and_cannot_use_it(client, counter, item, rich_member, desk_clock):
    clerk = StaffFactory(username="madoguchi")
    clerk.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="exchange", codename__in=["add_exchange", "view_exchange"])
    )
    client.force_login(clerk)
    desk_clock["now"] = SATURDAY

    assert 'name="override_reason"' not in page_text(client.get(member_url(rich_member)))
    response = exchange_over_http(client, rich_member, counter, (item, 1), override_reason="特例")

    assert response.status_code == 200
    assert Exchange.objects.count() == 0


# --- reservations --------------------------------------------------------------------------------


def test_a_reservation_by_phone_is_taken_outside_a_window_and_collected_in_it(
    staff_client, counter, item, rich_member, desk_clock
):
    desk_clock["now"] = SATURDAY
    taken = exchange_over_http(staff_client, rich_member, counter, (item, 1), reserve="on")
    reservation = Exchange.objects.get()
    assert taken.status_code == 302
    assert reservation.status == Exchange.Status.RESERVED

    desk_clock["now"] = tokyo(2026, 6, 8, 10)
    page = page_text(staff_client.get(member_url(rich_member)))
    assert f'id="reservation-{reservation.pk}"' in page
    collected = staff_client.post(reverse("admin:exchange_desk_collect", args=[rich_member.pk, reservation.pk]))

    reservation.refresh_from_db()
    assert collected.url == reverse("admin:exchange_desk_done", args=[reservation.pk])
    assert reservation.status == Exchange.Status.HANDED_OVER


def test_a_reservation_cannot_be_collected_outside_a_window_without_a_reason(
    staff_client, counter, item, rich_member, staff, desk_clock
):
    reservation = exchange_create(
        member=rich_member, counter=counter, lines=[(item, 1)], staff=staff, idempotency_key="r1", at=OPEN, reserve=True
    )
    desk_clock["now"] = SATURDAY

    response = staff_client.post(reverse("admin:exchange_desk_collect", args=[rich_member.pk, reservation.pk]))

    reservation.refresh_from_db()
    assert response.url == member_url(rich_member)
    assert reservation.status == Exchange.Status.RESERVED
