"""Points bought for money (資金決済法): sold at a till or the desk into purchased lots, shown apart from free
points on the receipt, the card lookup and the member page, spent in the order the programme says, never
voided for cash, and stated at the base dates with the half to secure above ¥10,000,000."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests.conftest import Till
from audit.models import AuditEvent
from points import errors
from points.models import Account, Entry, Lot, Programme
from points.selectors import base_dates, purchased_unused
from points.services import points_sell_at_desk
from points.tests.factories import TerminalFactory, make_card, make_staff
from points.verification import ledger_problems
from stores.services import terminal_issue_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client, store, programme):
    Programme.objects.filter(pk=programme.pk).update(sells_points=True)
    terminal = TerminalFactory(store=store)
    return Till(client, terminal, terminal_issue_secret(terminal=terminal, staff=make_staff()))


def buy(till, card, yen):
    body = {"card": {"type": "transit_ic", "number": card.number}, "amount_yen": yen, "receipt_no": "R-9"}
    from api.tests.conftest import now_iso

    return till.post("purchase-points", {**body, "occurred_at": now_iso()})


def test_points_bought_at_the_till_are_shown_apart_from_free_points(till, programme):
    card = make_card()

    bought = buy(till, card, 5_000)
    earned = till.earn(number=card.number, amount=10_000)

    assert bought.status_code == 201, bought.content
    assert bought.json()["points"]["total"] == 5_000
    assert bought.json()["programmes"][0]["purchased"] == 5_000
    # the earn's receipt: 5,100 points, of which 5,000 purchased
    line = earned.json()["programmes"][0]
    assert (line["balance"], line["purchased"]) == (5_100, 5_000)
    lookup = till.get(f"cards/transit_ic/{card.number}").json()["programmes"][0]
    assert (lookup["balance"], lookup["purchased"]) == (5_100, 5_000)
    # kept as a purchase entry and a purchased lot, and the ledger verifies
    sale = Entry.objects.get(kind=Entry.Kind.PURCHASE)
    assert (sale.points, sale.amount_yen) == (5_000, 5_000)
    assert Lot.objects.get(entry=sale).purchased
    assert ledger_problems(deep=True) == []


def test_free_points_are_spent_first_unless_the_programme_says_purchased_first(till, programme):
    card = make_card()
    buy(till, card, 1_000)
    till.earn(number=card.number, amount=10_000)

    till.spend(number=card.number, points=60)
    assert till.get(f"cards/transit_ic/{card.number}").json()["programmes"][0]["purchased"] == 1_000

    Programme.objects.filter(pk=programme.pk).update(spend_purchased_first=True)
    till.spend(number=card.number, points=30)
    line = till.get(f"cards/transit_ic/{card.number}").json()["programmes"][0]
    assert (line["balance"], line["purchased"]) == (1_010, 970)


def test_a_sale_cannot_be_voided_for_cash(till):
    card = make_card()
    sale = buy(till, card, 2_000).json()

    refused = till.void(sale["transaction_id"])

    assert refused.status_code == 404
    assert Account.objects.get(member=card.member).balance == 2_000


def test_a_programme_that_sells_no_points_refuses_a_sale_in_japanese(till, programme):
    Programme.objects.filter(pk=programme.pk).update(sells_points=False)

    refused = buy(till, make_card(), 1_000)

    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "points_not_sold",
        "message": "このプログラムはポイントを販売していません。",
    }
    assert not Entry.objects.exists()


def test_the_base_date_report_states_unused_purchased_points_and_the_half_to_secure(till, programme, client, staff):
    programme.refresh_from_db()
    member = make_card().member
    for number in range(11):
        points_sell_at_desk(
            member=member, programme=programme, amount_yen=1_000_000, staff=staff, idempotency_key=f"sale-{number}"
        )
    today = timezone.localdate()

    (line,) = purchased_unused(base_date=today)
    (before,) = purchased_unused(base_date=today - datetime.timedelta(days=1))

    assert (line.unused_yen, line.over_threshold, line.to_secure_yen) == (11_000_000, True, 5_500_000)
    assert (before.unused_yen, before.to_secure_yen) == (0, 0)
    # each desk sale is audited
    assert AuditEvent.objects.filter(summary="points sold").count() == 11
    # and the secretariat reads the base dates' report in the admin
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get(reverse("admin:points_purchased_base_dates")).content.decode()
    assert "基準日の購入ポイント未使用残高" in page
    assert all(f"{day:%Y/%m/%d}" in page for day in base_dates(today=today))
    # and the member page shows the balance's two kinds apart
    member_page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert "うち購入ポイント（前払式）" in member_page and "11,000,000 pt" in member_page


def test_base_dates_are_the_last_march_and_september_ends():
    assert base_dates(today=datetime.date(2026, 12, 4)) == [
        datetime.date(2026, 9, 30),
        datetime.date(2026, 3, 31),
        datetime.date(2025, 9, 30),
        datetime.date(2025, 3, 31),
    ]


def test_the_desk_refuses_a_sale_of_no_yen(programme, staff):
    Programme.objects.filter(pk=programme.pk).update(sells_points=True)
    programme.refresh_from_db()

    with pytest.raises(errors.InvalidAmount):
        points_sell_at_desk(member=make_card().member, programme=programme, amount_yen=0, staff=staff)


def test_purchased_points_are_refunded_in_cash_only_when_the_programme_has_ended(till, programme, client, staff):
    from points.services import points_refund_purchased

    card = make_card()
    buy(till, card, 3_000)
    till.earn(number=card.number, amount=10_000)
    programme.refresh_from_db()

    # while the programme runs, no refund
    with pytest.raises(errors.InvalidOperation) as refused:
        points_refund_purchased(member=card.member, programme=programme, staff=staff)
    assert str(refused.value) == "購入ポイントの現金での払戻しは、プログラムの終了後に限ります。"

    # the programme ends: the desk refunds the purchased points from the member page, the free ones stay
    Programme.objects.filter(pk=programme.pk).update(is_active=False)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = reverse("admin:members_member_change", args=[card.member.pk])
    assert "購入ポイントの払戻し（プログラム終了）" in client.get(page).content.decode()
    done = client.post(
        reverse("admin:members_member_refund_points", args=[card.member.pk]), {"programme": programme.pk}, follow=True
    )
    assert "購入ポイント 3,000 ポイントを払い戻しました。会員に 3,000円 をお支払いください。" in done.content.decode()
    refund = Entry.objects.get(kind=Entry.Kind.REFUND)
    assert (refund.points, refund.amount_yen) == (-3_000, 3_000)
    assert Account.objects.get(member=card.member).balance == 100
    assert AuditEvent.objects.filter(summary="purchased points refunded").count() == 1
    assert ledger_problems(deep=True) == []
    # and there is nothing left to refund
    with pytest.raises(errors.InvalidOperation):
        points_refund_purchased(member=card.member, programme=programme, staff=staff)
