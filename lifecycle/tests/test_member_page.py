"""The member page: a summary at the member's change URL (status, cards, balance, points expiring, history,
rally stamps, coupons, exchanges) with the operations as buttons; personal data is edited on the change form
behind `?edit=1`. Each operation calls its service, which writes the one audit row."""

import datetime
import html
import itertools
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from coupons.models import Coupon
from exchange.services import exchange_create
from exchange.tests.factories import tokyo
from lifecycle.services import card_replace, member_merge, member_withdraw
from loyalty.roles import AUDITOR, OPERATOR
from members.models import Card, Member
from members.services import card_find, member_register
from members.tests.factories import UserFactory
from points.models import Account, Entry, Lot
from points.services import points_adjust
from points.tests.factories import make_card
from stores.tests.factories import StaffFactory
from till.tests.helpers import till_buy

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def page_url(member) -> str:
    return reverse("admin:members_member_change", args=[member.pk])


def edit_url(member) -> str:
    return f"{page_url(member)}?edit=1"


def operation_url(name, member) -> str:
    return reverse(f"admin:members_member_{name}", args=[member.pk])


def section(page: str, section_id: str) -> str:
    """The text of one module of the page, tags stripped, whitespace collapsed."""
    match = re.search(rf'<div class="module[^"]*" id="{section_id}">(.*?)\n</div>', page, re.S)
    assert match, f"no section {section_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


@pytest.fixture
def desk(client, staff):
    """The secretariat at the admin."""
    client.force_login(staff)
    return client


@pytest.fixture
def card(programme):
    return make_card()


@pytest.fixture
def member(card, stores, rally, coupon_template):
    """A registered member who bought at three stores (50,000 yen each, 500 points each), reached the rally's
    goal (100 bonus points) and got the first-purchase coupon: 1,600 points."""
    member = member_register(
        member=card.member,
        terms_version="2024-04",
        personal={"name": "山田 太郎", "phone": "090-1234-5678", "email": "taro@example.jp"},
    )
    for store in stores[:3]:
        till_buy(card, store, amount_yen=50_000)
    return member


def reserve(member, counter, item, staff):
    return exchange_create(
        member=member,
        counter=counter,
        lines=[(item, 1)],
        staff=staff,
        idempotency_key=f"page-{next(_keys)}",
        at=tokyo(2026, 5, 30, 11),
        reserve=True,
    )


# --- the summary -----------------------------------------------------------------------------


def test_the_change_url_opens_on_the_summary_not_the_form(desk, member):
    response = desk.get(page_url(member))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/lifecycle/member_summary.html"
    assert 'name="terms_version"' not in page and 'name="phone"' not in page
    assert 'id="member-status">有効<' in page
    assert f'href="{edit_url(member)}"' in page


def test_the_balance_is_shown_per_programme_with_separators_and_unit(desk, member, programme):
    balance = section(desk.get(page_url(member)).content.decode(), "member-balance")

    assert Account.objects.get(member=member, programme=programme).balance == 1_600
    assert f"{programme.name} 1,600 pt" in balance


def test_points_expiring_are_summed_by_month_soonest_first(desk, member, programme, staff):
    # given one purchase's 500 points expiring sooner (as if carried over), and 2,000 more given today
    lot = Lot.objects.filter(account__member=member, entry__kind=Entry.Kind.EARN).order_by("pk").first()
    Lot.objects.filter(pk=lot.pk).update(expires_on=datetime.date(2027, 1, 31))
    points_adjust(member=member, programme=programme, points=2_000, reason="移行", staff=staff)
    later = Lot.objects.exclude(pk=lot.pk).filter(account__member=member).latest("pk").expires_on

    expiring = section(desk.get(page_url(member)).content.decode(), "member-expiring")

    assert f"2027/01 {programme.name} 500 pt" in expiring
    assert f"{later:%Y/%m} {programme.name} 3,100 pt" in expiring
    assert expiring.index("2027/01") < expiring.index(f"{later:%Y/%m}")


def test_cards_are_listed_with_their_status(desk, member, card, staff):
    new = card_replace(old_card=card, new_number="0A0B0C0D0E0F1011", new_card_type="transit_ic", staff=staff)

    cards = section(desk.get(page_url(member)).content.decode(), "member-cards")

    assert cards.index("…1011") < cards.index(f"…{card.number_last4}")  # the working card first
    assert f"{new} 有効" in cards
    assert f"{card} 再発行済み → …1011" in cards


def test_coupons_held_used_and_expired_are_counted_and_listed(desk, member, coupon_template):
    coupon = Coupon.objects.get(member=member)

    coupons = section(desk.get(page_url(member)).content.decode(), "member-coupons")

    assert "保有 1" in coupons and "使用済み 0" in coupons and "期限切れ 0" in coupons
    assert coupon_template.name in coupons and coupon.printed_code in coupons
    assert f"{coupon.valid_until:%Y/%m/%d}" in coupons


def test_rally_stamps_and_goals_reached_are_shown_per_rally(desk, member, rally):
    goal = rally.goals.get()

    rallies = section(desk.get(page_url(member)).content.decode(), "member-rallies")

    assert f"{rally.name} 有効 3 3 1 / 1 {goal.name} (+100 pt)" in rallies


def test_exchanges_and_reservations_are_shown_with_points_and_face_value(desk, member, counter, item, staff):
    reservation = reserve(member, counter, item, staff)

    exchanges = section(desk.get(page_url(member)).content.decode(), "member-exchanges")

    assert reservation.serial in exchanges
    assert f"予約中 {item.name} × 1 270 pt 3,000円 {counter.name}" in exchanges
    assert f"{reservation.collect_by:%Y/%m/%d}" in exchanges


def test_recent_history_shows_entries_and_card_events_newest_first(desk, member, card, staff):
    card_replace(old_card=card, new_number="0A0B0C0D0E0F1012", new_card_type="transit_ic", staff=staff, reason="紛失")

    history = section(desk.get(page_url(member)).content.decode(), "member-history")

    assert "付与 +500 pt" in history
    assert "ボーナス +100 pt" in history
    assert history.index("紛失") < history.index("付与")


def test_a_merged_record_links_to_the_member_it_was_merged_into(desk, member, stores, staff):
    other = make_card()
    till_buy(other, stores[3])
    member_merge(source=other.member, target=member, staff=staff)

    data = section(desk.get(page_url(other.member)).content.decode(), "member-data")

    assert f"統合先の会員 {member.pseudonym}" in data
    assert f'href="{page_url(member)}"' in desk.get(page_url(other.member)).content.decode()


def test_the_summary_reads_a_bounded_number_of_queries(
    desk, member, counter, item, staff, django_assert_max_num_queries
):
    reserve(member, counter, item, staff)

    # 23: the rank section asks which of the member's programmes have ranks (none here) in one query; 25: the
    # consent section reads the member's consent rows and the third parties; 27: the QR points section reads
    # the claims and the flyer rights, one query each.
    with django_assert_max_num_queries(27):
        assert desk.get(page_url(member)).status_code == 200


# --- personal data ---------------------------------------------------------------------------


def test_staff_allowed_to_see_personal_data_see_it_on_the_summary(desk, member):
    data = section(desk.get(page_url(member)).content.decode(), "member-data")

    assert "山田 太郎" in data and "090-1234-5678" in data and "taro@example.jp" in data


def test_staff_without_personal_data_permission_see_none_of_it(client, member):
    viewer = _user_with_perms("members.view_member", "points.view_account", username="etsuran")
    client.force_login(viewer)

    page = client.get(page_url(member)).content.decode()

    assert member.pseudonym in page and "1,600 pt" in page
    assert "山田" not in page and "090-1234-5678" not in page and "taro@example.jp" not in page


# --- editing ---------------------------------------------------------------------------------


def test_edit_opens_django_change_form_and_saving_returns_to_the_summary(desk, member):
    form = desk.get(edit_url(member))
    assert 'name="phone"' in form.content.decode()

    response = desk.post(edit_url(member), _form_data(phone="080-9999-0000"))

    assert response.status_code == 302 and response["Location"] == page_url(member)
    member.refresh_from_db()
    assert member.phone == "080-9999-0000"
    assert "080-9999-0000" in desk.get(page_url(member)).content.decode()


def test_save_and_continue_stays_on_the_form(desk, member):
    response = desk.post(page_url(member), {**_form_data(), "_continue": "1"})

    assert response.status_code == 302 and response["Location"].endswith("?edit=1")


def test_a_withdrawn_member_has_no_operations_and_no_edit_button(desk, member, staff):
    member_withdraw(member=member, staff=staff)

    page = desk.get(page_url(member)).content.decode()

    assert operation_url("adjust", member) not in page and operation_url("withdraw", member) not in page
    assert "すべての項目を表示" in page
    response = desk.get(operation_url("adjust", member), follow=True)
    assert "退会済み" in response.content.decode()


# --- permissions -----------------------------------------------------------------------------


def test_staff_without_the_member_view_permission_are_refused(client, member):
    client.force_login(StaffFactory(username="unyou", role=OPERATOR))

    assert client.get(page_url(member)).status_code == 403
    assert client.get(edit_url(member)).status_code == 403


def test_someone_not_logged_in_is_sent_to_the_login(client, member):
    response = client.get(page_url(member))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_auditor_reads_the_summary_without_operations_and_cannot_adjust(client, member, programme):
    client.force_login(StaffFactory(username="kansa", role=AUDITOR))

    page = client.get(page_url(member)).content.decode()
    response = client.post(operation_url("adjust", member), {"programme": programme.pk, "points": 5, "reason": "x"})

    assert "1,600 pt" in page and 'id="member-operations"' in page
    assert operation_url("adjust", member) not in page
    assert response.status_code == 403
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST).exists()


def test_the_operations_shown_are_those_the_staff_member_may_do(desk, member):
    page = desk.get(page_url(member)).content.decode()

    for name in ("adjust", "attach_card", "replace_card", "merge", "suspend", "withdraw"):
        assert operation_url(name, member) in page
    assert operation_url("reinstate", member) not in page
    assert reverse("admin:exchange_desk_member", args=[member.pk]) in page


# --- operations ------------------------------------------------------------------------------


def test_adjusting_points_returns_to_the_summary_with_the_new_balance_and_one_audit_row(desk, member, programme, staff):
    response = desk.post(
        operation_url("adjust", member), {"programme": programme.pk, "points": -20, "reason": "二重付与の訂正"}
    )

    assert response.status_code == 302 and response["Location"] == page_url(member)
    entry = Entry.objects.get(kind=Entry.Kind.ADJUST)
    assert (entry.points, entry.reason, entry.staff) == (-20, "二重付与の訂正", staff)
    assert AuditEvent.objects.filter(summary="manual adjustment").count() == 1
    page = desk.get(page_url(member)).content.decode()
    assert "1,580 pt" in section(page, "member-balance")
    assert "-20 pt" in section(page, "member-history")


def test_an_adjustment_without_a_reason_is_refused_in_japanese(desk, member, programme):
    response = desk.post(operation_url("adjust", member), {"programme": programme.pk, "points": 50, "reason": " "})

    assert response.status_code == 200
    assert "この項目は必須です。" in response.content.decode()
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST).exists()


def test_a_deduction_beyond_the_balance_is_refused_on_the_form(desk, member, programme):
    response = desk.post(operation_url("adjust", member), {"programme": programme.pk, "points": -9_999, "reason": "x"})

    assert response.status_code == 200
    assert "ポイントが不足しています" in response.content.decode()
    assert not Entry.objects.filter(kind=Entry.Kind.ADJUST).exists()


def test_replacing_a_card_from_the_member_page(desk, member, card):
    response = desk.post(
        operation_url("replace_card", member),
        {"old_card": card.pk, "new_card_type": "transit_ic", "new_number": "0123456789abcdef", "reason": "紛失"},
    )

    assert response.status_code == 302
    assert card_find(number="0123456789ABCDEF").member == member
    assert Card.objects.get(pk=card.pk).status == Card.Status.REPLACED
    assert AuditEvent.objects.filter(summary="card replaced").count() == 1
    assert "紛失" in section(desk.get(page_url(member)).content.decode(), "member-history")


def test_a_malformed_new_card_number_is_refused_with_the_reason(desk, member, card):
    response = desk.post(
        operation_url("replace_card", member), {"old_card": card.pk, "new_card_type": "transit_ic", "new_number": "XYZ"}
    )

    assert response.status_code == 200 and "16" in response.content.decode()
    assert Card.objects.get(pk=card.pk).status == Card.Status.ACTIVE


def test_merging_another_record_by_its_card_number(desk, member, stores, programme):
    other = make_card()
    till_buy(other, stores[3], amount_yen=1_000)

    response = desk.post(operation_url("merge", member), {"other": other.number, "reason": "同一人物"})

    assert response.status_code == 302
    assert Account.objects.get(member=member, programme=programme).balance == 1_610
    assert Member.objects.get(pk=other.member_id).merged_into == member
    assert AuditEvent.objects.filter(summary="members merged").count() == 1


def test_withdrawal_needs_confirmation_then_erases(desk, member):
    url = operation_url("withdraw", member)
    assert desk.post(url, {"reason": "本人希望"}).status_code == 200
    assert Member.objects.get(pk=member.pk).status == Member.Status.ACTIVE

    desk.post(url, {"reason": "本人希望", "confirm": "on"})

    member.refresh_from_db()
    assert (member.status, member.name) == (Member.Status.WITHDRAWN, "")
    assert AuditEvent.objects.filter(summary="member withdrawn").count() == 1


def test_suspending_and_reinstating_from_the_member_page(desk, member):
    desk.post(operation_url("suspend", member))
    member.refresh_from_db()
    assert member.status == Member.Status.SUSPENDED
    page = desk.get(page_url(member)).content.decode()
    assert 'id="member-status">利用停止<' in page
    assert operation_url("reinstate", member) in page

    desk.post(operation_url("reinstate", member))

    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert AuditEvent.objects.filter(summary__in=["member suspended", "member reinstated"]).count() == 2


def test_suspending_a_suspended_member_is_refused_on_the_page(desk, member):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)

    response = desk.post(operation_url("suspend", member))

    assert response.status_code == 200
    assert "利用停止にできるのは有効な会員のみです。" in response.content.decode()


# --- helpers ---------------------------------------------------------------------------------


def _user_with_perms(*perms, username):
    user = UserFactory(username=username)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def _form_data(**overrides) -> dict:
    data = {
        "name": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "birth_date": "",
        "phone": "090-1234-5678",
        "email": "taro@example.jp",
        "address": "",
        "gender": "",
        "birth_year": "",
        "birth_month": "",
        "postal_code": "",
        "terms_version": "2024-04",
    }
    return {**data, **overrides}


def test_the_rank_now_and_its_history_are_shown_with_the_figures_each_change_was_decided_on(desk, member, programme):
    import django.utils.timezone as timezone

    from ranks.models import Rank, RankPolicy
    from ranks.services import ranks_evaluate

    # given a ladder, and the member's 150,000 yen of purchases today counted at the next midnight
    RankPolicy.objects.create(programme=programme, calendar_year=True)
    for name, threshold in (("レギュラー", 0), ("シルバー", 100_000), ("ゴールド", 300_000)):
        Rank.objects.create(programme=programme, name=name, threshold_yen=threshold)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    ranks_evaluate(programme=programme, day=tomorrow)

    ranks = section(desk.get(page_url(member)).content.decode(), "member-ranks")

    # then the rank, what remains to the next, and the change with its reason
    assert "シルバー — ゴールドまであと 150,000円" in ranks
    assert f"{tomorrow:%Y/%m/%d} — → シルバー 150,000 {tomorrow.year}-01〜{timezone.localdate():%Y-%m}" in ranks
    assert "のお買上げ 150,000円 ≥ 100,000円" in ranks
