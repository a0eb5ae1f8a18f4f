"""Two companies' programmes on one system, each with a row of every kind the back office shows, and the
staff who see them: a company's own staff (scoped to its programme) and the group's secretariat."""

from __future__ import annotations

import itertools

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone
from django_q.models import Failure, OrmQ, Schedule, Success, Task

from analytics.models import CirculationReport, MembersReport, PointsReport, PromotionsReport
from analytics.tests.helpers import monthly_report_row
from audit.models import AuditEvent
from billing.models import BillingAdjustment, Period, Statement, StoreBillingTerms
from billing.services import period_close
from billing.services.adjustments import billing_adjustment_create
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from campaigns.models import CampaignApplication
from campaigns.tests.factories import CampaignFactory
from coupons.models import Coupon, CouponTemplate
from coupons.tests.factories import CouponTemplateFactory
from donations.models import Donation
from donations.services import donations_close
from donations.tests.factories import OrganisationFactory, donate
from exchange.models import StockMove, WindowRule
from exchange.services import exchange_create
from exchange.tests.factories import CounterFactory, ItemFactory, WindowRuleFactory, give_points, stock, tokyo
from legacy.models import ImportBatch
from loyalty.roles import SECRETARIAT
from mailing.models import Delivery, ExpiryReminder, Mailing
from members.models import CardEvent, Consent, ConsentPolicy, Provision, ThirdParty
from members.services import member_register
from offers.models import Activation, OfferPolicy, Redemption
from offers.services import CardLine, card_transaction_import, offer_activate, payment_card_link
from offers.tests.factories import consenting, make_offer
from points.models import Account, Entry, Lot, StaffProgramme
from points.tests.factories import ProgrammeFactory, StoreFactory, join, make_card
from qrpoints.models import FlyerRight, QrClaim
from qrpoints.services import qr_scan, store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of
from rallies.models import GoalReached, Stamp
from rallies.services import rally_draw
from rallies.tests.factories import RallyFactory, RallyGoalFactory
from ranks.models import MemberRank, Rank, RankPolicy, RankRecord
from stores.tests.factories import MerchantFactory, StaffFactory, TerminalFactory
from till.tests.helpers import till_buy

_keys = itertools.count(1)


def build_programme(code: str, name: str, staff) -> dict:
    """A company's programme with one row of every kind, by model: its store (of this programme only), a
    member who bought there (a campaign bonus, a coupon, a rally stamp and goal), a rank, a closed period and
    its statement, an adjustment, a reserved gift exchange, a QR event and a flyer the member claimed at the
    store's visit code, and a mailing sent to the member with its send log and the programme's expiry reminder."""
    programme = ProgrammeFactory(code=code, name=name)
    settings = BillingSettingsFactory(programme=programme)
    merchant = MerchantFactory(name=f"{name}の会社")
    store = join(StoreFactory(merchant=merchant, name=f"{name}の店"), programme)
    terminal = TerminalFactory(store=store)
    terms = StoreBillingTerms.objects.create(store=store, note="特約")
    campaign = CampaignFactory(programme=programme)
    template = CouponTemplateFactory(
        programme=programme, condition=CouponTemplate.Condition.NTH_PURCHASE_AT_STORE, purchases_needed=1
    )
    rally = RallyFactory(programme=programme, store_ids=[store.pk])
    goal = RallyGoalFactory(rally=rally, target=1)

    card = make_card()
    member = card.member
    member_register(
        member=member, terms_version="v1", personal={"name": f"{name}の会員"}, consents={"mail_magazine": True}
    )
    consenting(member)
    offer = make_offer(programme=programme, store=store, per_member_limit=2)
    till_buy(card, store, amount_yen=5_000)
    offer_activate(member=member, offer=offer)
    give_points(member, programme, 10_000)
    draw = rally_draw(goal=goal, winners=1, seed=1, staff=staff)

    RankPolicy.objects.create(programme=programme, calendar_month=True)
    rank = Rank.objects.create(programme=programme, name="ゴールド", threshold_yen=1_000)
    today = timezone.localdate()
    member_rank = MemberRank.objects.create(member=member, programme=programme, rank=rank, since=today)
    record = RankRecord.objects.create(
        member=member, programme=programme, rank=rank, effective_on=today, purchases_yen=5_000, reason="5,000円"
    )

    batch = ImportBatch.objects.create(programme=programme, status=ImportBatch.Status.CHECKED, created_by=staff)

    year, month = this_period(settings)
    period = period_close(
        programme=programme, year=year, month=month, staff=staff, now=after_period(settings, year, month)
    ).period
    statement = Statement.objects.get(period=period, store=store)
    adjustment = billing_adjustment_create(store=store, amount_yen=100, tax="taxable_10", reason="訂正", staff=staff)

    WindowRuleFactory(programme=programme)
    counter = CounterFactory(programme=programme)
    item = stock(ItemFactory(programme=programme, price_points=100), 5)
    exchange = exchange_create(
        member=member,
        counter=counter,
        lines=[(item, 1)],
        staff=staff,
        idempotency_key=f"firewall-{next(_keys)}",
        at=tokyo(2026, 6, 1, 10),
        reserve=True,
    )
    organisation = OrganisationFactory(programme=programme, name=f"{name}の寄付先")
    donation = donate(member, organisation, 10, at=tokyo(2026, 5, 1, 10))
    donations_close(programme=programme, year=2026, month=5, now=tokyo(2026, 6, 1, 1), staff=staff)
    donation = Donation.objects.select_related("settlement").get(pk=donation.pk)
    qr_event = QrEventFactory(programme=programme)
    flyer = FlyerFactory(programme=programme, stores=[store])
    visit_code = store_visit_code_current(store=store)
    for code in (qr_event, flyer, visit_code):
        qr_scan(member=member, token=token_of(code))

    payment_card = payment_card_link(member=member, token=f"tok-firewall-{programme.pk}")
    card_transaction, _outcome = card_transaction_import(
        line=CardLine(
            token=payment_card.token,
            merchant_code=merchant.code,
            store_code=store.code,
            amount_yen=4_000,
            occurred_at=timezone.now(),
            transaction_id=f"tx-{code}",
        )
    )

    account = Account.objects.get(member=member, programme=programme)
    mailing = Mailing.objects.create(
        programme=programme, subject="商店街だより", body="{{ name }} 様", status=Mailing.Status.SENT, created_by=staff
    )
    delivery = Delivery.objects.create(mailing=mailing, member=member, status=Delivery.Status.SENT, at=timezone.now())
    reminder = ExpiryReminder.objects.create(programme=programme, subject="失効のお知らせ", body="{{ name }} 様")
    monthly_report = monthly_report_row(programme)
    rows = [
        programme,
        batch,
        settings,
        merchant,
        store,
        terminal,
        terms,
        campaign,
        CampaignApplication.objects.get(campaign=campaign),
        template,
        Coupon.objects.get(template=template),
        rally,
        Stamp.objects.get(rally=rally),
        GoalReached.objects.get(goal=goal),
        draw,
        member,
        card,
        CardEvent.objects.filter(member=member).first(),
        Consent.objects.filter(member=member).first(),
        account,
        Entry.objects.filter(account=account).first(),
        Lot.objects.filter(account=account).first(),
        rank.programme.rank_policy,
        rank,
        member_rank,
        record,
        period,
        statement,
        adjustment,
        counter,
        WindowRule.objects.filter(programme=programme).first(),
        item,
        StockMove.objects.filter(item=item).first(),
        exchange,
        organisation,
        donation,
        donation.settlement,
        qr_event,
        QrClaim.objects.get(event=qr_event),
        flyer,
        FlyerRight.objects.get(flyer=flyer),
        visit_code,
        mailing,
        delivery,
        reminder,
        monthly_report,
        offer,
        OfferPolicy.objects.create(programme=programme, portal_creation=True),
        Activation.objects.get(offer=offer),
        Redemption.objects.filter(offer=offer).first(),
        payment_card,
        card_transaction,
        # Each analytics report is a programme's page.
        *(
            report.objects.get(pk=programme.pk)
            for report in (PointsReport, CirculationReport, MembersReport, PromotionsReport)
        ),
    ]
    assert all(row is not None for row in rows)
    assert isinstance(period, Period) and isinstance(adjustment, BillingAdjustment)
    return {type(row): row for row in rows}


def build_group_rows(staff) -> dict:
    """Rows that belong to no programme: users and groups, the audit trail and the admin log, background
    tasks, login attempts."""
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[staff],
        action_flag=ADDITION,
        change_message="",
        single_object=True,
    )
    now = timezone.now()
    task = dict(func="math.floor", started=now, stopped=now, name="t", group="g")
    third_party = ThirdParty.objects.create(name="提供先", purpose="分析", items="年代")
    rows = [
        staff,
        Group.objects.get(name=SECRETARIAT),
        LogEntry.objects.first(),
        AuditEvent.objects.first(),
        Schedule.objects.first() or Schedule.objects.create(func="math.floor", name="floor"),
        Success.objects.get(pk=Task.objects.create(id="a" * 32, success=True, **task).pk),
        Failure.objects.get(pk=Task.objects.create(id="b" * 32, success=False, **task).pk),
        OrmQ.objects.create(key="default", payload="x", lock=now),
        AccessAttempt.objects.create(username="x", ip_address="127.0.0.1", failures_since_start=1),
        AccessLog.objects.create(username="x", ip_address="127.0.0.1"),
        AccessFailureLog.objects.create(username="x", ip_address="127.0.0.1", locked_out=False),
        StaffProgramme.objects.first(),
        ConsentPolicy.objects.create(version="v1", title="方針", in_force_from=now),
        third_party,
        Provision.objects.create(third_party=third_party, items="x", members_count=0, staff=staff, keep_until=now),
    ]
    assert all(row is not None for row in rows)
    return {type(row): row for row in rows}


@pytest.fixture
def staff_a(db):
    return scoped_staff("hikari", "A")


@pytest.fixture
def staff_b(db):
    return scoped_staff("sakura", "B")


def scoped_staff(username: str, code: str):
    """Staff with the secretariat's role, working for one company's programme only."""
    user = StaffFactory(username=username, role=SECRETARIAT)
    StaffProgramme.objects.create(user=user, programme=ProgrammeFactory(code=code, name=f"プログラム{code}"))
    return user


@pytest.fixture
def world(secretariat, staff_a, staff_b) -> dict:
    """Programme A's rows, programme B's rows and the group's rows, by model."""
    return {
        "A": build_programme("A", "プログラムA", secretariat),
        "B": build_programme("B", "プログラムB", secretariat),
        "group": build_group_rows(secretariat),
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(client, user):
    client.force_login(user)
    return client
