"""Every service that changes something a person decided writes its audit row itself, inside its own
transaction, naming the staff member: called normally it leaves the row; called while the row cannot be
written it raises and leaves nothing changed. And no admin screen or view writes an audit row of its own
after a service has committed."""

import ast
import datetime
import itertools
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.core import serializers
from django.utils import timezone

from audit.models import AuditEvent
from billing.tests.factories import BillingSettingsFactory, after_period, this_period
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from coupons.models import CouponTemplate
from coupons.tests.factories import CouponTemplateFactory
from exchange.tests.factories import CounterFactory, ItemFactory, WindowRuleFactory, give_points, stock, tokyo
from loyalty.roles import SECRETARIAT
from points.tests.factories import StoreFactory, join, make_card
from rallies.models import Rally, RallyGoal
from rallies.tests.factories import RallyFactory, RallyGoalFactory
from stores.tests.factories import StaffFactory, TerminalFactory
from till.tests.helpers import till_buy

ROOT = Path(__file__).resolve().parents[2]
OURS = (
    "stores",
    "members",
    "points",
    "campaigns",
    "coupons",
    "rallies",
    "billing",
    "exchange",
    "api",
    "audit",
    "ranks",
    "legacy",
    "donations",
    "qrpoints",
)
_keys = itertools.count()


class World:
    """What the services act on: one programme with its billing settings, two stores, a member with points."""

    def __init__(self):
        self.staff = StaffFactory(username="jimukyoku", role=SECRETARIAT)
        self.settings = BillingSettingsFactory()
        self.programme = self.settings.programme
        self.store = join(StoreFactory(name="ひかりベーカリー"), self.programme)
        self.terminal = TerminalFactory(store=self.store)
        self.card = make_card()
        self.member = self.card.member
        till_buy(self.card, self.store, amount_yen=3_000)
        give_points(self.member, self.programme, 10_000)

    def key(self) -> str:
        return f"audit-test-{next(_keys)}"

    def exchange_setup(self):
        WindowRuleFactory(programme=self.programme)
        counter = CounterFactory(programme=self.programme)
        item = stock(ItemFactory(programme=self.programme), 5)
        return counter, item

    def exchanged(self, *, reserve=False):
        from exchange.services import exchange_create

        counter, item = self.exchange_setup()
        return exchange_create(
            member=self.member,
            counter=counter,
            lines=[(item, 1)],
            staff=self.staff,
            idempotency_key=self.key(),
            at=tokyo(2026, 6, 1, 10),
            reserve=reserve,
        )

    def closed_period(self):
        from billing.services import period_close

        year, month = this_period(self.settings)
        now = after_period(self.settings, year, month)
        return period_close(programme=self.programme, year=year, month=month, staff=self.staff, now=now).period


def _adjust(w):
    from points.services import points_adjust

    return lambda: points_adjust(member=w.member, programme=w.programme, points=5, reason="訂正", staff=w.staff)


def _suspend(w):
    from members.services import member_register, member_suspend

    member_register(member=w.member, terms_version="v1", personal={"name": "山田 太郎"})
    return lambda: member_suspend(member=w.member, staff=w.staff)


def _reinstate(w):
    from members.services import member_reinstate

    _suspend(w)()
    return lambda: member_reinstate(member=w.member, staff=w.staff)


def _attach(w):
    from members.services import card_attach

    return lambda: card_attach(member=w.member, number="0000111122223333", card_type="programme", staff=w.staff)


def _merge(w):
    from lifecycle.services import member_merge

    other = make_card()
    till_buy(other, w.store)
    return lambda: member_merge(source=other.member, target=w.member, staff=w.staff)


def _replace(w):
    from lifecycle.services import card_replace

    return lambda: card_replace(
        old_card=w.card, new_number="00000000CAFEBABE", new_card_type=w.card.card_type, staff=w.staff
    )


def _withdraw(w):
    from lifecycle.services import member_withdraw

    return lambda: member_withdraw(member=w.member, staff=w.staff, reason="本人の申出")


def _campaign_save(w):
    from campaigns.services import campaign_save

    campaign = Campaign(
        programme=w.programme,
        name="春のポイント2倍",
        kind=Campaign.Kind.MULTIPLIER,
        multiplier_percent=200,
        starts_at=timezone.now(),
        ends_at=timezone.now() + datetime.timedelta(days=7),
    )
    return lambda: campaign_save(campaign=campaign, staff=w.staff)


def _campaign_status(w):
    from campaigns.services import campaign_set_status

    campaign = CampaignFactory(programme=w.programme)
    return lambda: campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, staff=w.staff)


def _template_save(w):
    from coupons.services import coupon_template_save

    template = CouponTemplateFactory.build(programme=w.programme, status=CouponTemplate.Status.DRAFT)
    return lambda: coupon_template_save(template=template, staff=w.staff)


def _template_status(w):
    from coupons.services import coupon_template_set_status

    template = CouponTemplateFactory(programme=w.programme)
    return lambda: coupon_template_set_status(template=template, status=CouponTemplate.Status.PAUSED, staff=w.staff)


def _rally_save(w):
    from rallies.services import rally_save

    rally = RallyFactory.build(programme=w.programme, store_ids=[w.store.pk], status=Rally.Status.DRAFT)
    return lambda: rally_save(rally=rally, staff=w.staff)


def _rally_goals(w):
    from rallies.services import rally_goals_save

    rally = RallyFactory(programme=w.programme, store_ids=[w.store.pk], status=Rally.Status.DRAFT)
    goal = RallyGoal(rally=rally, name="達成賞", kind=RallyGoal.Kind.STAMPS, target=2, bonus_points=50)
    return lambda: rally_goals_save(rally=rally, goals=[goal], deleted=[], staff=w.staff)


def _rally_status(w):
    from rallies.services import rally_set_status

    rally = RallyFactory(programme=w.programme, store_ids=[w.store.pk])
    return lambda: rally_set_status(rally=rally, status=Rally.Status.CLOSED, staff=w.staff)


def _rally_draw(w):
    from rallies.services import rally_draw

    rally = RallyFactory(programme=w.programme, store_ids=[w.store.pk])
    goal = RallyGoalFactory(rally=rally, kind=RallyGoal.Kind.STAMPS, target=1, reward=RallyGoal.Reward.DRAW)
    till_buy(w.card, w.store)
    return lambda: rally_draw(goal=goal, winners=1, seed=42, staff=w.staff)


def _exchange(w):
    from exchange.services import exchange_create

    counter, item = w.exchange_setup()
    return lambda: exchange_create(
        member=w.member,
        counter=counter,
        lines=[(item, 1)],
        staff=w.staff,
        idempotency_key=w.key(),
        at=tokyo(2026, 6, 1, 10),
    )


def _collect(w):
    from exchange.services import exchange_collect

    reserved = w.exchanged(reserve=True)
    return lambda: exchange_collect(exchange=reserved, staff=w.staff, at=tokyo(2026, 6, 2, 10))


def _cancel(w):
    from exchange.services import exchange_cancel

    done = w.exchanged()
    return lambda: exchange_cancel(exchange=done, staff=w.staff, reason="取消")


def _stock_receive(w):
    from exchange.services import stock_receive

    item = ItemFactory(programme=w.programme)
    return lambda: stock_receive(item=item, quantity=3, staff=w.staff, reason="納品")


def _write_off(w):
    from exchange.services import stock_write_off

    item = stock(ItemFactory(programme=w.programme), 3)
    return lambda: stock_write_off(item=item, quantity=1, staff=w.staff, reason="破損")


def _close(w):
    from billing.services import period_close, period_get_or_create

    year, month = this_period(w.settings)
    # The period itself exists before anyone closes it (the admin lists it open).
    period_get_or_create(programme=w.programme, year=year, month=month)
    now = after_period(w.settings, year, month)
    return lambda: period_close(programme=w.programme, year=year, month=month, staff=w.staff, now=now)


def _reopen(w):
    from billing.services import period_reopen

    period = w.closed_period()
    return lambda: period_reopen(period=period, staff=w.staff, reason="訂正のため")


def _send(w):
    from billing.services import period_send

    period = w.closed_period()
    return lambda: period_send(period=period, staff=w.staff)


def _settle(w):
    from billing.services import statement_settle

    statement = w.closed_period().statements.get()
    return lambda: statement_settle(statement=statement, on=timezone.localdate(), staff=w.staff)


def _adjustment(w):
    from billing.services import billing_adjustment_create

    return lambda: billing_adjustment_create(
        store=w.store, amount_yen=1_000, tax="taxable_10", reason="訂正", staff=w.staff
    )


def _terminal_secret(w):
    from stores.services import terminal_issue_secret

    return lambda: terminal_issue_secret(terminal=w.terminal, staff=w.staff)


def _terminal_revoke(w):
    from stores.services import terminal_revoke

    return lambda: terminal_revoke(terminal=w.terminal, staff=w.staff)


def _legacy_programme(w):
    """The sample set's programme (docs/legacy-sample/): stores S001 and S002, and a rank ladder."""
    from legacy.tests.helpers import sample_files, source
    from ranks.models import Rank

    for code in ("S001", "S002"):
        join(StoreFactory(code=code), w.programme)
    for name, threshold in (("レギュラー", 0), ("シルバー", 50_000), ("ゴールド", 100_000)):
        Rank.objects.create(programme=w.programme, name=name, threshold_yen=threshold)
    return source(sample_files())


def _legacy_import(w):
    from legacy.services import legacy_import

    files = _legacy_programme(w)
    return lambda: legacy_import(programme=w.programme, source=files, staff=w.staff)


def _legacy_rollback(w):
    from legacy.services import legacy_import, legacy_rollback

    batch = legacy_import(programme=w.programme, source=_legacy_programme(w), staff=w.staff)
    return lambda: legacy_rollback(batch=batch, staff=w.staff, reason="ファイルの誤り")


def _store_suspend(w):
    from stores.services import store_suspend

    return lambda: store_suspend(store=w.store, staff=w.staff)


def _donation_organisation(w):
    from donations.tests.factories import OrganisationFactory

    return OrganisationFactory(programme=w.programme, name="ひかり子ども食堂")


def _donate(w):
    from donations.services import donation_make

    organisation = _donation_organisation(w)
    return lambda: donation_make(
        member=w.member, organisation=organisation, points=100, channel="desk", idempotency_key=w.key(), staff=w.staff
    )


def _donations_close(w):
    from donations.services import donations_close
    from donations.tests.factories import donate

    donate(w.member, _donation_organisation(w), 100, at=tokyo(2026, 5, 1, 10))
    return lambda: donations_close(programme=w.programme, year=2026, month=5, staff=w.staff, now=tokyo(2026, 6, 1, 1))


def _donation_paid(w):
    from donations.models import DonationSettlement
    from donations.services import settlement_mark_paid

    _donations_close(w)()
    settlement = DonationSettlement.objects.get()
    return lambda: settlement_mark_paid(settlement=settlement, on=datetime.date(2026, 6, 10), staff=w.staff)


def _qr_event_save(w):
    from qrpoints.models import QrEvent
    from qrpoints.services import qr_event_save

    event = QrEvent(
        programme=w.programme,
        name="駅前夏祭り",
        points=100,
        max_claims=50,
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=7),
    )
    return lambda: qr_event_save(event=event, staff=w.staff)


def _flyer_save(w):
    from qrpoints.models import Flyer
    from qrpoints.services import flyer_save

    flyer = Flyer(
        programme=w.programme,
        name="秋のチラシ",
        points=50,
        valid_from=timezone.now(),
        valid_until=timezone.now() + datetime.timedelta(days=7),
    )
    return lambda: flyer_save(flyer=flyer, staff=w.staff, stores=[w.store])


def _store_visit_code_issue(w):
    from qrpoints.services import store_visit_code_current, store_visit_code_issue

    store_visit_code_current(store=w.store)
    return lambda: store_visit_code_issue(store=w.store, staff=w.staff)


SERVICES = {
    "points_adjust": _adjust,
    "member_suspend": _suspend,
    "member_reinstate": _reinstate,
    "card_attach": _attach,
    "member_merge": _merge,
    "card_replace": _replace,
    "member_withdraw": _withdraw,
    "campaign_save": _campaign_save,
    "campaign_set_status": _campaign_status,
    "coupon_template_save": _template_save,
    "coupon_template_set_status": _template_status,
    "rally_save": _rally_save,
    "rally_goals_save": _rally_goals,
    "rally_set_status": _rally_status,
    "rally_draw": _rally_draw,
    "exchange_create": _exchange,
    "exchange_collect": _collect,
    "exchange_cancel": _cancel,
    "stock_receive": _stock_receive,
    "stock_write_off": _write_off,
    "period_close": _close,
    "period_reopen": _reopen,
    "period_send": _send,
    "statement_settle": _settle,
    "billing_adjustment_create": _adjustment,
    "terminal_issue_secret": _terminal_secret,
    "terminal_revoke": _terminal_revoke,
    "store_suspend": _store_suspend,
    "legacy_import": _legacy_import,
    "legacy_rollback": _legacy_rollback,
    "donation_make": _donate,
    "donations_close": _donations_close,
    "settlement_mark_paid": _donation_paid,
    "qr_event_save": _qr_event_save,
    "flyer_save": _flyer_save,
    "store_visit_code_issue": _store_visit_code_issue,
}


# A failed close says so on its period, for the admin to show: not a change anyone decided.
NOT_DECISIONS = {"billing.Period": {"progress"}}


def everything() -> dict[str, str]:
    """Every row of the project's apps, serialised: what "nothing changed" compares."""
    found = {}
    for app in OURS:
        for model in apps.get_app_config(app).get_models():
            if model is AuditEvent:
                continue
            skipped = NOT_DECISIONS.get(model._meta.label, set())
            fields = [field.name for field in model._meta.concrete_fields if field.name not in skipped]
            found[model._meta.label] = serializers.serialize("json", model.objects.order_by("pk"), fields=fields)
    return found


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return World()


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_writes_its_audit_row_naming_the_staff_member(world, name):
    call = SERVICES[name](world)
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    call()

    new = AuditEvent.objects.exclude(pk__in=before)
    assert new.exists(), f"{name} changed something without an audit row"
    assert {event.actor for event in new} == {world.staff}


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_changes_nothing_when_its_audit_row_cannot_be_written(world, name):
    call = SERVICES[name](world)
    before = everything()

    with mock.patch.object(AuditEvent.objects, "create", side_effect=RuntimeError("audit down")):
        with pytest.raises(RuntimeError, match="audit down"):
            call()

    after = everything()
    assert [label for label in before if before[label] != after[label]] == []


def calls_of(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name
    ]


def test_no_screen_writes_an_audit_row_of_its_own():
    # The one exception: the audited admin base mirrors plain model admins' saves, inside their transaction.
    allowed = {ROOT / "audit" / "backoffice.py"}
    screens = [
        path
        for pattern in ("*/admin.py", "*/admin/*.py", "*/views.py", "*/views/*.py", "portal/*.py")
        for path in ROOT.glob(pattern)
        if ".venv" not in path.parts and path not in allowed
    ]
    assert len(screens) > 10
    found = {str(path.relative_to(ROOT)): calls_of(path, "audit_record") for path in screens}
    assert {path: lines for path, lines in found.items() if lines} == {}
