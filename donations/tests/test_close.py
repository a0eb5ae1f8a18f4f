"""The monthly close of donations and the transfer file that pays them, read back as the secretariat and
the organisations read them: settlement rows, the notice through pdftotext, the Zengin file's bytes."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import BillingSettings
from billing.zengin import ZenginError
from donations.errors import DonationCloseError
from donations.models import Donation, DonationSettlement
from donations.services import donations_close, donations_transfer_file, settlement_mark_paid
from donations.tests.conftest import needs_poppler, pdf_text
from donations.tests.factories import OrganisationFactory, donate
from exchange.tests.factories import give_points
from members.tests.factories import MemberFactory
from points.tests.factories import ProgrammeFactory, make_staff

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def tokyo(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=ZONE)


# After May 2026 and the close's grace: when May's donations may be closed.
AFTER_MAY = tokyo(2026, 6, 1, 1, 0)


@pytest.fixture
def second(programme, billing_settings):
    return OrganisationFactory(programme=programme, name="さくら災害義援金", account_holder_kana="サクラギエンキン")


@pytest.fixture
def may(programme, organisation, second):
    """In May: 100 and 250 points to the children's kitchen, 40 to the disaster fund; 70 more on 1 June."""
    members = [MemberFactory() for _ in range(3)]
    for member in members:
        give_points(member, programme, 1_000)
    donate(members[0], organisation, 100, at=tokyo(2026, 5, 1, 0, 0))
    donate(members[1], organisation, 250, at=tokyo(2026, 5, 31, 23, 59))
    donate(members[2], second, 40, at=tokyo(2026, 5, 15, 12, 0))
    donate(members[0], organisation, 70, at=tokyo(2026, 6, 1, 0, 0))
    return members


def close_may(programme, **extra):
    return donations_close(programme=programme, year=2026, month=5, now=AFTER_MAY, **extra)


def test_the_close_gives_each_organisation_its_months_total(programme, organisation, second, may):
    staff = make_staff("jimu")

    result = close_may(programme, staff=staff)

    totals = {
        s.organisation_id: (s.donation_count, s.total_points, s.total_yen, s.status)
        for s in DonationSettlement.objects.all()
    }
    assert totals == {organisation.pk: (2, 350, 350, "closed"), second.pk: (1, 40, 40, "closed")}
    assert {s.pk for s in result.settlements} == set(DonationSettlement.objects.values_list("pk", flat=True))
    settlement = DonationSettlement.objects.get(organisation=organisation)
    assert (settlement.starts_at, settlement.ends_at) == (tokyo(2026, 5, 1), tokyo(2026, 6, 1))
    assert settlement.closed_by == staff
    # Each donation names the settlement that paid it
    assert sorted(settlement.donations.values_list("points", flat=True)) == [100, 250]
    event = AuditEvent.objects.get(summary="Closed a month of donations")
    assert event.actor == staff and event.detail["period"] == "2026-05"


def test_donations_of_the_next_month_wait_for_its_close(programme, organisation, may):
    close_may(programme)

    june = Donation.objects.get(created_at=tokyo(2026, 6, 1, 0, 0))
    assert june.settlement is None

    donations_close(programme=programme, year=2026, month=6, now=tokyo(2026, 7, 1, 1, 0))

    june.refresh_from_db()
    assert june.settlement.label == "2026年6月分" and june.settlement.total_points == 70


def test_closing_a_month_twice_makes_nothing_twice(programme, organisation, may):
    first = close_may(programme)
    notice = DonationSettlement.objects.get(organisation=organisation).notice_sha256

    again = close_may(programme)

    assert (len(first.settlements), len(again.settlements), again.notices_rendered) == (2, 0, 0)
    assert DonationSettlement.objects.count() == 2
    assert DonationSettlement.objects.get(organisation=organisation).notice_sha256 == notice
    assert AuditEvent.objects.filter(summary="Closed a month of donations").count() == 1


def test_a_donation_the_close_did_not_see_is_paid_in_the_next_month(programme, organisation, may, rich_member):
    close_may(programme)
    # Recorded as of May after May was closed (a request in flight, a clock behind)
    late = donate(rich_member, organisation, 5, at=tokyo(2026, 5, 31, 23, 59, 59))

    close_may(programme)
    assert Donation.objects.get(pk=late.pk).settlement is None

    donations_close(programme=programme, year=2026, month=6, now=tokyo(2026, 7, 1, 1, 0))
    june = DonationSettlement.objects.get(organisation=organisation, month=6)
    assert (june.donation_count, june.total_points) == (2, 75)


def test_a_month_that_has_not_ended_is_not_closed(programme, organisation, may):
    with pytest.raises(DonationCloseError) as refused:
        donations_close(programme=programme, year=2026, month=6, now=tokyo(2026, 6, 30, 23, 0))

    assert str(refused.value) == "2026-06 はまだ終わっていません。この月の寄付は 2026-07-01 00:10 から締められます。"
    assert not DonationSettlement.objects.exists()


def test_the_month_follows_the_programmes_closing_day(programme, organisation, rich_member):
    BillingSettings.objects.filter(programme=programme).update(closing_day=20)
    donate(rich_member, organisation, 10, at=tokyo(2026, 5, 20, 23, 0))  # in "2026-05": 21 April to 20 May
    donate(rich_member, organisation, 20, at=tokyo(2026, 5, 21, 0, 0))  # in "2026-06"

    donations_close(programme=programme, year=2026, month=5, now=tokyo(2026, 5, 21, 1, 0))

    settlement = DonationSettlement.objects.get()
    assert (settlement.total_points, settlement.starts_at, settlement.ends_at) == (
        10,
        tokyo(2026, 4, 21),
        tokyo(2026, 5, 21),
    )


@needs_poppler
def test_the_notice_names_the_organisation_the_month_and_the_total(programme, organisation, may, tmp_path):
    close_may(programme)
    settlement = DonationSettlement.objects.get(organisation=organisation)

    text = pdf_text(settlement.notice_pdf.read(), tmp_path)
    compact = text.replace(" ", "")

    assert "ポイント寄付金のお知らせ" in text
    assert "ひかり子ども食堂 御中" in text
    assert "2026年5月分（2026/05/01〜2026/05/31）" in text
    assert "寄付件数2件" in compact
    assert "寄付ポイント350pt" in compact
    assert "寄付金額350円（1ポイント＝1円）" in compact
    assert "ひかり商店街振興組合 事務局" in text  # the programme's secretariat sends it
    assert "〒100-0001 東京都千代田区千代田1-1 TEL 03-0000-0000" in text
    assert "お振込先 ﾐﾂﾋﾞｼﾕｰｴﾌｼﾞｪｲ ｼﾝｼﾞﾕｸ 普通 7654321 トクヒ)ヒカリコドモシヨクドウ" in text


# --- the transfer file ------------------------------------------------------------------------


def records(content: bytes) -> list[bytes]:
    assert content.endswith(b"\r\n")
    return content.split(b"\r\n")[:-1]


def test_the_transfer_file_pays_each_organisation_its_total(programme, organisation, second, may):
    close_may(programme)
    settlements = list(DonationSettlement.objects.order_by("pk"))

    content = donations_transfer_file(settlements=settlements, transfer_date=datetime.date(2026, 6, 10))

    lines = records(content)
    assert [len(line) for line in lines] == [120] * 5
    text = [line.decode("cp932") for line in lines]
    assert [line[0] for line in text] == ["1", "2", "2", "8", "9"]
    header = text[0]
    assert header[1:3] == "21" and header[4:14] == "1234567890" and header[54:58] == "0610"
    by_holder = {line[50:80].rstrip(): line for line in text[1:3]}
    kitchen = by_holder["ﾄｸﾋ)ﾋｶﾘｺﾄﾞﾓｼﾖｸﾄﾞｳ"]
    assert kitchen[1:5] == "0005" and kitchen[20:23] == "123" and kitchen[42:43] == "1" and kitchen[43:50] == "7654321"
    assert int(kitchen[80:90]) == 350
    assert int(by_holder["ｻｸﾗｷﾞｴﾝｷﾝ"][80:90]) == 40
    trailer = text[3]
    assert (int(trailer[1:7]), int(trailer[7:19])) == (2, 390)
    event = AuditEvent.objects.get(summary="Exported a bank transfer file of donations")
    assert event.detail["settlements"] == [s.pk for s in settlements]


def test_paid_settlements_are_left_out_of_the_transfer_file(programme, organisation, second, may):
    close_may(programme)
    kitchen, fund = (
        DonationSettlement.objects.get(organisation=organisation),
        DonationSettlement.objects.get(organisation=second),
    )
    settlement_mark_paid(settlement=fund, on=datetime.date(2026, 6, 10), staff=make_staff("jimu"))

    content = donations_transfer_file(settlements=[kitchen, DonationSettlement.objects.get(pk=fund.pk)])

    assert [line[:1] for line in records(content)] == [b"1", b"2", b"8", b"9"]
    kitchen.refresh_from_db()
    settlement_mark_paid(settlement=kitchen, on=datetime.date(2026, 6, 10), staff=make_staff("jimu"))
    with pytest.raises(ZenginError, match="未払い"):
        donations_transfer_file(settlements=list(DonationSettlement.objects.all()))


def test_the_transfer_file_needs_the_secretariats_account(programme, organisation, may):
    close_may(programme)
    BillingSettings.objects.filter(programme=programme).update(consignor_code="")

    with pytest.raises(ZenginError) as refused:
        donations_transfer_file(settlements=list(DonationSettlement.objects.all()))

    assert str(refused.value) == "請求設定に事務局の委託者コードと口座を入力してください。"


def test_one_transfer_file_pays_one_programmes_organisations(programme, organisation, may):
    other = ProgrammeFactory(code="OTHER", name="別のポイント")
    member = MemberFactory()
    give_points(member, other, 100)
    elsewhere = OrganisationFactory(programme=other, name="別の寄付先")
    donate(member, elsewhere, 10, at=tokyo(2026, 5, 2, 10, 0))
    close_may(programme)
    donations_close(programme=other, year=2026, month=5, now=AFTER_MAY)

    with pytest.raises(ZenginError):
        donations_transfer_file(settlements=list(DonationSettlement.objects.all()))


def test_marking_paid_is_recorded_once(programme, organisation, may):
    close_may(programme)
    settlement = DonationSettlement.objects.get(organisation=organisation)
    staff = make_staff("jimu")

    settlement_mark_paid(settlement=settlement, on=datetime.date(2026, 6, 10), staff=staff)
    settlement_mark_paid(settlement=settlement, on=datetime.date(2026, 6, 11), staff=staff)

    settlement.refresh_from_db()
    assert (settlement.status, settlement.paid_on, settlement.paid_by) == ("paid", datetime.date(2026, 6, 10), staff)
    assert AuditEvent.objects.filter(summary="Recorded a donation settlement as paid").count() == 1


# --- the schedule -----------------------------------------------------------------------------


def test_the_nightly_close_is_scheduled_after_the_billing_close(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="close-donation-months")

    assert (schedule.func, schedule.schedule_type, schedule.repeats) == ("donations.tasks.close_due_donations", "D", -1)
    assert timezone.localtime(schedule.next_run).strftime("%H:%M") == "00:40"
    billing = Schedule.objects.get(name="close-billing-periods")
    assert timezone.localtime(billing.next_run).time() < timezone.localtime(schedule.next_run).time()


def test_the_nightly_task_closes_the_last_month_once(programme, organisation, may, monkeypatch):
    from donations.tasks import close_due_donations

    monkeypatch.setattr(timezone, "now", lambda: tokyo(2026, 6, 1, 0, 40))

    assert close_due_donations() == "TEST 2026-05: 2 settlements"
    assert close_due_donations() == "TEST 2026-05: 0 settlements"
    assert DonationSettlement.objects.count() == 2
