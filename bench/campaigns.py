"""Figures for campaigns (issue 5): earns per second with 50 active campaigns, 20 coupon templates and 2 rallies
next to none of them, and a forecast.

How the figures are made:
- earn load: on the terminal API's database `loyalty_bench` (bench/terminal_api.py
  prepares it: migrated, or a small one seeded when it is missing), with its
  till (fresh secrets for 16 terminals, known cards) and one gunicorn with its
  production settings. Its earn load (16 terminals from bench/loadgen.py, a
  warm-up until the rate settles, 20 s measured; 30% of the earnings send
  one to three items with their categories) runs twice on that server:
  first with no active campaign, coupon template or rally, then after a
  subprocess has created 50 active campaigns of the kinds a shopping
  street runs (a store's own days, categories, lunch and
  evening hours, weekdays, women, seniors, students' age band, postal areas,
  birthday month, registered or new cards, first visit to a store, minimum
  purchases, multipliers and fixed bonuses, budgets, caps per member and day,
  a few exclusive ones), 20 active coupon templates (N-th purchase at a
  store within some days, purchases from an item category; discounts and
  bonus points; some limited to the terminals' stores) and 2 running rallies
  over the terminals' stores (one per store and day towards 3 and 5
  different stores, and an area of 4 stores plus 10 stamps in all, with
  bonus and draw rewards). The ratio of the two is held against the 0.6
  target; next to it, the same ratio per core-second that gunicorn and
  PostgreSQL used, which a busy neighbour on the shared machine disturbs
  less. The subprocess also counts the statements one earn request sends
  (POST /api/v1/earn through the Django test client with one of the till's
  terminals, whose secret it reads on stdin: the whole request, token and
  idempotency record included, as the API's clients see it, whatever code
  serves it) with none and with all of them, and after the load how many
  bonuses, coupons and stamps an earning got on average. Then they are
  paused (campaigns, templates) or ended (rallies), with their period
  ended; what they gave stays (the ledger is never deleted from), so later
  sections see none running.
- forecast: on the monthly close's database `loyalty_bench_close`
  (bench/billing.py: 1,000,000 entries in last month), `campaign_forecast` of
  one programme-wide campaign whose conditions the rules must decide for
  every earning (registered members aged 20 and over, double points, a cap
  per member and day), over enough weeks to cover last month (6 at least).
  Timed once cold and once warm; the warm run is the figure (target 10 s).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import time

from bench import alone, manage, probe, say, terminal_api
from bench.pg import execute

DATABASE = terminal_api.DATABASE
FORECAST_DATABASE = "loyalty_bench_close"
CAMPAIGNS = 50
COUPON_TEMPLATES = 20
RALLIES = 2
# The share of the load's earnings that send items (the same in both runs).
ITEM_SHARE = 0.3
PREFIX = "bench: "
TARGET_RATIO = 0.6
TARGET_FORECAST_SECONDS = 10
FORECAST_WEEKS = 6


def run(figures: dict, *, small: bool = False) -> None:
    """The campaign figures, added to `figures`; the bench's campaigns are paused whatever happens."""
    earn_with_and_without(figures, small=small)
    forecast(figures)


def earn_with_and_without(figures: dict, *, small: bool) -> None:
    database = terminal_api.prepare_database(small)
    left = probe(database, "bench.campaigns", "--teardown")
    if left["paused"]:
        say(f"   paused {left['paused']} campaigns a previous run left active")
    if left["others_active"]:
        say(
            f"   ! {left['others_active']} other active campaigns, templates or rallies on {database}: "
            "'none' is not quite none"
        )
    say(
        f"== campaigns on {database}: earn throughput with none and with {CAMPAIGNS} campaigns, "
        f"{COUPON_TEMPLATES} coupon templates and {RALLIES} rallies, one gunicorn"
    )
    till = probe(database, "bench.terminal_api", "--till")
    stores = [terminal["store"] for terminal in till["terminals"]]
    workers = int(os.environ.get("BENCH_API_WORKERS", terminal_api.WORKERS))
    threads = int(os.environ.get("BENCH_API_THREADS", terminal_api.THREADS))
    try:
        with terminal_api.Gunicorn(database, workers=workers, threads=threads) as server:
            say("-- no campaigns, coupon templates or rallies")
            none = load(server, till)
            # The second terminal's secret: the first store's own campaign is exclusive, and would stand alone.
            made = probe(database, "bench.campaigns", "--setup", *stores, stdin=till["terminals"][1]["secret"])
            say(
                f"-- {made['created']} active campaigns ({made['budgeted']} with a budget, {made['capped']} with "
                f"caps, {made['exclusive']} exclusive), {made['templates']} coupon templates, {made['rallies']} "
                f"rallies with {made['goals']} goals; one earn request sends "
                f"{made['queries_none']} statements with none, {made['queries_fifty']} with them "
                f"({made['bonuses']} bonuses and {made['stamps']} stamps on that purchase of 2,480 yen)"
            )
            fifty = load(server, till)
    finally:
        done = probe(database, "bench.campaigns", "--teardown")
    bonuses_per_earn = round(done["bonuses"] / done["earns"], 2) if done["earns"] else None
    figures.update(
        {
            "campaign_earn_tps_none": none["api_earn_tps"],
            "campaign_earn_tps_50": fifty["api_earn_tps"],
            "campaign_earn_ratio": round(fifty["api_earn_tps"] / none["api_earn_tps"], 3),
            "campaign_earn_p50_ms_none": none["api_earn_p50_ms"],
            "campaign_earn_p50_ms_50": fifty["api_earn_p50_ms"],
            "campaign_earn_p99_ms_none": none["api_earn_p99_ms"],
            "campaign_earn_p99_ms_50": fifty["api_earn_p99_ms"],
            "campaign_earn_errors_50": fifty["api_errors"],
            "campaign_earn_queries": {"none": made["queries_none"], "fifty": made["queries_fifty"]},
            "campaign_bonuses_per_earn": bonuses_per_earn,
            "campaign_budgets_run_out": done["ran_out"],
            "campaign_coupon_templates": made["templates"],
            "campaign_rallies": made["rallies"],
            "campaign_coupons_per_earn": round(done["coupons"] / done["earns"], 3) if done["earns"] else None,
            "campaign_stamps_per_earn": round(done["stamps"] / done["earns"], 3) if done["earns"] else None,
        }
    )
    ratio = figures["campaign_earn_ratio"]
    say(
        f"   an earning got {bonuses_per_earn} bonuses on average ({done['bonuses']:,} bonuses on "
        f"{done['earns']:,} earnings), {done['coupons']:,} coupons and {done['stamps']:,} stamps; "
        f"{done['ran_out']} budgets ran out; {done['paused']} campaigns and templates paused, "
        f"{done['ended']} rallies ended"
    )
    say(
        f"== earn with them {fifty['api_earn_tps']:,} tps / none {none['api_earn_tps']:,} tps = "
        f"{ratio} ({'meets' if ratio >= TARGET_RATIO else 'BELOW'} the {TARGET_RATIO} target)"
    )
    per_core = {name: per_core_second(found) for name, found in (("none", none), ("fifty", fifty))}
    if all(per_core.values()):
        figures["campaign_earn_per_core_ratio"] = round(per_core["fifty"] / per_core["none"], 3)
        say(
            f"   per core-second of gunicorn and PostgreSQL: {per_core['fifty']} earns with them, "
            f"{per_core['none']} with none = {figures['campaign_earn_per_core_ratio']} (what the ratio would be "
            "with the machine to ourselves; other processes took cores in one run or the other)"
        )


def per_core_second(found: dict) -> float | None:
    """Earns per second of CPU that gunicorn and PostgreSQL used: steadier than earns per second when a
    neighbour on the shared machine takes cores during one of the two runs."""
    used = found.get("api_earn_cores_used") or {}
    busy = used.get("server", 0) + used.get("postgres", 0)
    return round(found["api_earn_tps"] / busy, 1) if busy else None


def load(server, till: dict) -> dict:
    """The terminal API section's earn load, its figures kept apart from that section's."""
    found: dict = {}
    terminal_api.earn_load(found, server, till, item_share=ITEM_SHARE)
    return found


def forecast(figures: dict) -> None:
    if not execute("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{FORECAST_DATABASE}'"):
        raise RuntimeError(f"no {FORECAST_DATABASE}: run the monthly close section (python -m bench.billing) first")
    done, _seconds = manage(FORECAST_DATABASE, "migrate", "--noinput")
    if done.returncode:
        raise RuntimeError("migrate failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    found = probe(FORECAST_DATABASE, "bench.campaigns", "--forecast", timeout=600)
    figures.update(found)
    seconds = found["campaign_forecast_seconds"]
    say(
        f"== forecast on {FORECAST_DATABASE} ({found['campaign_forecast_entries']:,} entries): one programme-wide "
        f"campaign over {found['campaign_forecast_weeks']} weeks"
    )
    say(
        f"   {found['campaign_forecast_transactions']:,} earnings replayed, {found['campaign_forecast_matched']:,} "
        f"matched, {found['campaign_forecast_bonus_points']:,} bonus points to "
        f"{found['campaign_forecast_members']:,} members; {seconds:.2f} s "
        f"(cold {found['campaign_forecast_cold_seconds']:.2f} s; "
        f"{'meets' if seconds < TARGET_FORECAST_SECONDS else 'ABOVE'} the {TARGET_FORECAST_SECONDS} s target)"
    )


# --- under Django, in a subprocess (bench.probe) ---------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()


def fifty_campaigns(programme, till_stores: list, other_stores: list, now: datetime.datetime) -> list:
    """50 campaigns of the kinds a shopping street runs at once; most purchases meet one to three of them.

    Weekdays and hours are set around the moment of the run, so that the same
    ones apply (or not) whenever the bench runs, and the figure does not
    depend on the day.
    """
    import random

    from django.utils import timezone

    from campaigns.models import Campaign
    from points.models import Funder
    from stores.models import Store

    rng = random.Random(50)
    local = timezone.localtime(now)
    today, hour = local.weekday(), local.hour

    def days(*offsets: int) -> list[int]:
        return sorted((today + offset) % 7 for offset in offsets)

    def hours_from_now(offset: int, length: int) -> dict:
        start = (hour + offset) % 24
        return {"hour_from": start, "hour_to": min(24, start + length)}

    categories = [category for category, _label in Store.Category.choices]
    till_categories = sorted({store.category for store in till_stores})
    specs = []
    # A store's own promotion, funded by the store: 12 at the stores the terminals are in, 12 elsewhere.
    for index, store in enumerate(till_stores[:12] + rng.sample(other_stores, min(12, len(other_stores)))):
        specs.append(
            dict(
                name=f"{store.name} ポイント{'3倍' if index % 3 == 0 else '2倍'}デー",
                multiplier_percent=300 if index % 3 == 0 else 200,
                store_ids=[store.pk],
                weekdays=[] if index % 2 == 0 else (days(0, 2, 4) if index % 4 == 1 else days(1, 3, 5)),
                min_amount_yen=1_000 if index % 4 == 1 else 0,
                cap_per_member_day=300 if index % 4 == 2 else None,
                funder=Funder.STORE,
                exclusive=index in (0, 12),
                priority=50 if index in (0, 12) else 100,
            )
        )
    # Categories: food, evening drinking, a lunch hour, health; some on weekdays only.
    for index in range(10):
        # Half of them name a category of the terminals' stores.
        wanted = [till_categories[index % len(till_categories)] if index % 2 else rng.choice(categories)]
        wanted.append(rng.choice(categories))
        specs.append(
            dict(
                name=f"カテゴリ応援 {index + 1}",
                kind=Campaign.Kind.FIXED if index % 2 else Campaign.Kind.MULTIPLIER,
                fixed_points=20,
                multiplier_percent=150,
                categories=wanted,
                # A time sale now, an evening one later; one on today's weekday, one on every other day.
                **(hours_from_now(0, 2) if index == 3 else hours_from_now(8, 3) if index == 4 else {}),
                weekdays=days(0) if index == 5 else days(1, 2, 3, 4, 5, 6) if index == 6 else [],
                budget_points=2_000_000 if index in (1, 2) else None,
                cap_per_member_day=100 if index % 3 == 0 else None,
            )
        )
    # Programme-wide, by who the member is.
    specs += [
        dict(name="レディースデー", genders=["female"], weekdays=days(1), multiplier_percent=200),
        dict(name="シニア応援", age_min=65, multiplier_percent=150, cap_per_member=2_000),
        dict(name="学生応援", age_min=18, age_max=22, kind=Campaign.Kind.FIXED, fixed_points=30),
        dict(name="地元応援", postal_prefixes=["100", "101", "102"], multiplier_percent=120),
        dict(name="お誕生月", birthday_month=True, multiplier_percent=300, cap_per_member=1_000),
        dict(
            name="会員登録で2倍",
            registered=Campaign.Registered.REGISTERED,
            multiplier_percent=200,
            budget_points=50_000_000,
            cap_per_member_day=500,
        ),
        dict(
            name="はじめてのお買い物",
            registered=Campaign.Registered.UNREGISTERED,
            kind=Campaign.Kind.FIXED,
            fixed_points=50,
            cap_per_member=50,
        ),
        dict(
            name="新しいお店デビュー",
            # Welcoming the customers of stores that joined lately.
            store_ids=[store.pk for store in till_stores[:4]],
            first_purchase_at_store=True,
            kind=Campaign.Kind.FIXED,
            fixed_points=30,
            budget_points=1_000_000,
        ),
        dict(name="まとめ買い", min_amount_yen=15_000, kind=Campaign.Kind.FIXED, fixed_points=100),
        dict(name="朝市", **hours_from_now(12, 3), multiplier_percent=200),
        dict(name="週末ナイト", weekdays=days(1, 2), **hours_from_now(4, 5), multiplier_percent=150),
        dict(name="雨の日限定（予算わずか）", kind=Campaign.Kind.FIXED, fixed_points=10, budget_points=5_000),
        dict(name="周年祭", exclusive=True, priority=10, min_amount_yen=18_000, multiplier_percent=500),
        dict(name="お米の日", item_categories=["rice"], kind=Campaign.Kind.FIXED, fixed_points=20),
        dict(name="地酒フェア", item_categories=["sake"], multiplier_percent=200),
        dict(name="月末感謝デー", store_ids=[store.pk for store in till_stores[12:]], multiplier_percent=200),
    ]
    assert len(specs) == CAMPAIGNS, len(specs)
    return [
        Campaign(
            programme=programme,
            status=Campaign.Status.ACTIVE,
            starts_at=now - datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=30),
            **{**spec, "name": PREFIX + spec["name"]},
        )
        for spec in specs
    ]


def coupon_templates(programme, till_stores: list, now: datetime.datetime) -> list:
    """20 coupon templates: a store's N-th purchase (as a loyalty card's stamp sheet) and item categories."""
    from coupons.models import CouponTemplate
    from points.models import Funder

    nth = CouponTemplate.Condition.NTH_PURCHASE_AT_STORE
    category = CouponTemplate.Condition.CATEGORY_PURCHASES
    specs = []
    for index in range(10):
        store = till_stores[index % len(till_stores)]
        specs.append(
            dict(
                name=f"{store.name} {3 + index % 3}回目のお買い物",
                condition=nth,
                purchases_needed=3 + index % 3,
                within_days=90 if index % 2 else 30,
                min_amount_yen=500 if index % 4 == 1 else 0,
                # Half issue at every store for a visit there, half only at one store.
                store_ids=[store.pk] if index % 2 else [],
                **(
                    dict(benefit=CouponTemplate.Benefit.BONUS_POINTS, bonus_points=100, funder=Funder.STORE)
                    if index % 3 == 0
                    else dict(discount_yen=100 * (1 + index % 5))
                ),
                limit_per_member=None if index % 5 == 4 else 1 + index % 2,
            )
        )
    for index in range(10):
        specs.append(
            dict(
                name=f"{ITEM_NAMES[index % len(ITEM_NAMES)]}をお買い上げの方へ {index + 1}",
                condition=category,
                item_category=ITEM_KINDS[index % len(ITEM_KINDS)],
                purchases_needed=2 + index % 4,
                within_days=None if index % 3 == 0 else 60,
                **(
                    dict(benefit=CouponTemplate.Benefit.BONUS_POINTS, bonus_points=50)
                    if index % 2
                    else dict(discount_yen=200)
                ),
                limit_per_member=2,
            )
        )
    assert len(specs) == COUPON_TEMPLATES, len(specs)
    return [
        CouponTemplate(
            programme=programme,
            status=CouponTemplate.Status.ACTIVE,
            starts_at=now - datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=30),
            **{**spec, "name": PREFIX + spec["name"]},
        )
        for spec in specs
    ]


# The categories bench/loadgen.py sends, and their names on a receipt.
ITEM_KINDS = ("rice", "sake", "vegetables", "bakery", "household")
ITEM_NAMES = ("お米", "地酒", "野菜", "パン", "日用品")


def two_rallies(programme, till_stores: list, now: datetime.datetime) -> None:
    """A street-wide rally (3 and 5 different stores) and an area rally (4 stores, and 10 stamps in all)."""
    from points.models import Funder
    from rallies.models import Rally, RallyGoal

    ids = [store.pk for store in till_stores]
    period = dict(
        programme=programme,
        status=Rally.Status.ACTIVE,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=30),
    )
    street = Rally.objects.create(name=PREFIX + "商店街スタンプラリー", store_ids=ids, min_amount_yen=500, **period)
    RallyGoal.objects.bulk_create(
        [
            RallyGoal(rally=street, name="3店舗達成", position=1, target=3, bonus_points=100),
            RallyGoal(rally=street, name="5店舗達成", position=2, target=5, reward=RallyGoal.Reward.DRAW),
        ]
    )
    area = Rally.objects.create(name=PREFIX + "駅前エリアめぐり", store_ids=ids[::2], **period)
    RallyGoal.objects.bulk_create(
        [
            RallyGoal(
                rally=area,
                name="駅前4店制覇",
                position=1,
                kind=RallyGoal.Kind.ALL_STORES_OF,
                area_store_ids=ids[:8:2],
                bonus_points=200,
                funder=Funder.STORE,
            ),
            RallyGoal(
                rally=area,
                name="スタンプ10個",
                position=2,
                kind=RallyGoal.Kind.STAMPS,
                target=10,
                reward=RallyGoal.Reward.DRAW,
            ),
        ]
    )


def setup_main(store_codes: list[str], secret: str) -> None:
    """Create the 50 active campaigns, 20 templates and 2 rallies; count one earn request's statements before and
    after, through POST /api/v1/earn with the terminal whose secret is given."""
    _django()
    from django.utils import timezone

    from campaigns.models import Campaign
    from coupons.models import CouponTemplate
    from members.models import Card, Member
    from points.services import programme_for_store
    from rallies.models import Rally, RallyGoal
    from stores.models import Store

    by_code = {store.code: store for store in Store.objects.filter(code__in=store_codes)}
    till_stores = [by_code[code] for code in store_codes]
    programme = programme_for_store(store=till_stores[0])
    others = list(Store.objects.filter(participation__programme=programme).exclude(code__in=store_codes))
    card = Card.objects.filter(status=Card.Status.ACTIVE, member__status=Member.Status.ACTIVE).order_by("pk").first()
    purchase = {"type": card.card_type, "number": card.number}

    queries_none, _bonuses, _stamps = earn_statements(secret, purchase)
    now = timezone.now()
    campaigns = Campaign.objects.bulk_create(fifty_campaigns(programme, till_stores, others, now))
    templates = CouponTemplate.objects.bulk_create(coupon_templates(programme, till_stores, now))
    two_rallies(programme, till_stores, now)
    queries_fifty, bonuses, stamps = earn_statements(secret, purchase)
    print(
        json.dumps(
            {
                "created": len(campaigns),
                "budgeted": sum(campaign.budget_points is not None for campaign in campaigns),
                "capped": sum(
                    campaign.cap_per_member_day is not None or campaign.cap_per_member is not None
                    for campaign in campaigns
                ),
                "exclusive": sum(campaign.exclusive for campaign in campaigns),
                "templates": len(templates),
                "rallies": Rally.objects.filter(name__startswith=PREFIX, status=Rally.Status.ACTIVE).count(),
                "goals": RallyGoal.objects.filter(
                    rally__name__startswith=PREFIX, rally__status=Rally.Status.ACTIVE
                ).count(),
                "queries_none": queries_none,
                "queries_fifty": queries_fifty,
                "bonuses": bonuses,
                "stamps": stamps,
            }
        ),
        flush=True,
    )


def earn_statements(secret: str, card: dict) -> tuple[int, int, int]:
    """One earn of 2,480 yen with two items through POST /api/v1/earn: the statements it sent (BEGIN and COMMIT
    included), and the bonuses and rally stamps its receipt shows."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    body = {
        "card": card,
        "amount_yen": 2_480,
        "receipt_no": "BENCH",
        "occurred_at": timezone.now().isoformat(),
        "items": [
            {"code": "4900000000001", "category": "rice", "quantity": 1, "amount_yen": 1_980},
            {"code": "4900000000002", "category": "sake", "quantity": 1, "amount_yen": 500},
        ],
    }
    # Host and scheme as the proxy in front would give them, whatever the settings.
    client = Client(HTTP_HOST="localhost")
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/api/v1/earn",
            data=json.dumps(body),
            content_type="application/json",
            secure=True,
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"bench-campaigns-{time.time_ns()}"},
        )
    if response.status_code not in (200, 201):
        raise SystemExit(f"earn answered {response.status_code}: {response.content[:300]!r}")
    receipt = response.json()
    stamps = sum(line["stamp"] for line in receipt["rally"])
    return len(captured.captured_queries), len(receipt["points"]["bonuses"]), stamps


def teardown_main() -> None:
    """Pause the bench's campaigns and templates and end its rallies; count what they gave while they ran."""
    _django()
    from django.db.models import Min
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignApplication
    from coupons.models import Coupon, CouponTemplate
    from points.models import Entry
    from rallies.models import Rally, Stamp

    now = timezone.now()
    running = Campaign.objects.filter(name__startswith=PREFIX, status=Campaign.Status.ACTIVE)
    templates = CouponTemplate.objects.filter(name__startswith=PREFIX, status=CouponTemplate.Status.ACTIVE)
    rallies = Rally.objects.filter(name__startswith=PREFIX, status=Rally.Status.ACTIVE)
    since = running.aggregate(since=Min("starts_at"))["since"]
    found = {"paused": 0, "ended": 0, "bonuses": 0, "coupons": 0, "stamps": 0, "earns": 0, "ran_out": 0}
    if since is not None:
        # They were created a day into their period (see fifty_campaigns).
        created = since + datetime.timedelta(days=1)
        found["bonuses"] = CampaignApplication.objects.filter(campaign__in=running).count()
        found["coupons"] = Coupon.objects.filter(template__in=templates).count()
        found["stamps"] = Stamp.objects.filter(rally__in=rallies).count()
        found["earns"] = Entry.objects.filter(kind=Entry.Kind.EARN, recorded_at__gte=created).count()
        found["ran_out"] = sum(
            campaign.budget_used >= campaign.budget_points for campaign in running if campaign.budget_points
        )
    found["paused"] = running.update(status=Campaign.Status.PAUSED, ends_at=now, updated_at=now)
    found["paused"] += templates.update(status=CouponTemplate.Status.PAUSED, ends_at=now, updated_at=now)
    found["ended"] = rallies.update(status=Rally.Status.CLOSED, ends_at=now, updated_at=now)
    found["others_active"] = (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE, ends_at__gt=now).count()
        + CouponTemplate.objects.filter(status=CouponTemplate.Status.ACTIVE, ends_at__gt=now).count()
        + Rally.objects.filter(status=Rally.Status.ACTIVE, ends_at__gt=now).count()
    )
    print(json.dumps(found), flush=True)


def forecast_main() -> None:
    """Forecast one programme-wide campaign over last month's earnings, cold and then warm."""
    _django()
    from django.utils import timezone

    from campaigns.forecast import campaign_forecast
    from campaigns.models import Campaign
    from points.models import Entry, Programme

    now = timezone.now()
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    weeks = max(FORECAST_WEEKS, math.ceil(((timezone.localdate() - last_month).days + 1) / 7))
    # Never saved: a draft an operator is looking at, and nothing to clean up after.
    campaign = Campaign(
        programme=Programme.objects.get(),
        name=PREFIX + "登録会員ポイント2倍",
        status=Campaign.Status.DRAFT,
        multiplier_percent=200,
        registered=Campaign.Registered.REGISTERED,
        age_min=20,
        cap_per_member_day=200,
        starts_at=now,
        ends_at=now + datetime.timedelta(days=14),
    )
    timings = []
    for _run in range(2):
        started = time.perf_counter()
        result = campaign_forecast(campaign=campaign, weeks=weeks, now=now)
        timings.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "campaign_forecast_seconds": round(timings[1], 2),
                "campaign_forecast_cold_seconds": round(timings[0], 2),
                "campaign_forecast_weeks": weeks,
                "campaign_forecast_entries": Entry.objects.count(),
                "campaign_forecast_transactions": result.transactions,
                "campaign_forecast_matched": result.matched,
                "campaign_forecast_bonus_points": result.bonus_points,
                "campaign_forecast_members": result.members,
            }
        ),
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", nargs="+", metavar="STORE_CODE", help=argparse.SUPPRESS)
    parser.add_argument("--teardown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--forecast", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=f"seed and use a small {terminal_api.SMALL_DATABASE}")
    options = parser.parse_args()
    if options.setup:
        setup_main(options.setup, sys.stdin.read().strip())
        return 0
    if options.teardown:
        teardown_main()
        return 0
    if options.forecast:
        forecast_main()
        return 0
    return alone("campaigns", "campaigns", run, small=options.small)


if __name__ == "__main__":
    sys.exit(main())
