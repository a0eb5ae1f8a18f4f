"""Figures for bringing an old system over (issue 15): 1,000,000 point lots of 200,000 members imported in at
most five minutes on PostgreSQL.

How the figures are made:
- a fresh database `loyalty_bench_legacy`, migrated; under Django (python -m bench.legacy --setup) a programme
  LEGACY with 50 participating stores and a rank ladder of three ranks.
- the old system's files, generated in a temporary directory (seeded, so every run writes the same):
  members.csv with 200,000 members (70% registered with name, kana, phone, e-mail, postal code, address and
  birth date; the rest card holders only), cards.csv with 250,000 cards (a programme card each, a transit IC
  card for a quarter of them), lots.csv with 1,000,000 lots (five per member, named by card number or by old
  member number, earned over the last 22 months, valid to the end of the 24th month after, 60% with their
  issuing store), ranks.csv with 60,000 ranks (with a validity), and totals.csv, the control totals by month
  of expiry, by rank and in all, in UTF-8.
- `manage.py import_legacy DIR --programme LEGACY --dry-run` then `manage.py import_legacy DIR --programme
  LEGACY`, each timed by its wall clock in a subprocess (Django's start included): the import's seconds are
  the figure (target 300 s), with lots per second; the dry run's seconds next to it. Then `manage.py
  verify_ledger`, which must hold.
"""

from __future__ import annotations

import csv
import datetime
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import alone, manage, say
from bench.pg import execute, recreate_database

DATABASE = os.environ.get("BENCH_LEGACY_DATABASE", "loyalty_bench_legacy")
PROGRAMME = "LEGACY"
MEMBERS = 200_000
LOTS = 1_000_000
STORES = 50
RANKS = (("レギュラー", 0), ("シルバー", 50_000), ("ゴールド", 150_000))
RANKED = 60_000
TARGET_SECONDS = 300

SURNAMES = ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤")
SURNAMES_KANA = (
    "ヤマダ",
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
)
GIVEN = ("太郎", "花子", "一郎", "美咲", "健太", "陽菜", "大輔", "さくら", "翔", "結衣")
GIVEN_KANA = ("タロウ", "ハナコ", "イチロウ", "ミサキ", "ケンタ", "ヒナ", "ダイスケ", "サクラ", "ショウ", "ユイ")


def _month_end(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    following = datetime.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def generate(directory: Path, *, members: int = MEMBERS, lots: int = LOTS, seed: int = 15) -> dict:
    """Write the five files; returns their sizes in rows."""
    rng = random.Random(seed)
    today = datetime.date.today()
    member_ids = [f"K{n:07d}" for n in range(1, members + 1)]
    cards_of: dict[int, list[str]] = defaultdict(list)
    with open(directory / "members.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["旧会員番号", "氏名", "氏名（フリガナ）", "電話番号", "メールアドレス", "郵便番号", "住所"]
            + ["生年月日", "性別", "同意した規約バージョン", "入会日", "メールマガジン", "DM"]
        )
        for n, legacy_id in enumerate(member_ids):
            if rng.random() < 0.7:
                s, g = rng.randrange(10), rng.randrange(10)
                born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(25_000))
                joined = today - datetime.timedelta(days=rng.randrange(30, 3_000))
                out.writerow(
                    [
                        legacy_id,
                        f"{SURNAMES[s]} {GIVEN[g]}",
                        f"{SURNAMES_KANA[s]} {GIVEN_KANA[g]}",
                        f"090-{n // 10000:04d}-{n % 10000:04d}",
                        f"m{n}@example.jp",
                        f"{100 + n % 800:03d}-{n % 10000:04d}",
                        f"東京都千代田区千代田{n % 9 + 1}-{n % 30 + 1}",
                        born.isoformat(),
                        rng.choice(("female", "male", "")),
                        "v3",
                        joined.isoformat(),
                        rng.choice("01"),
                        rng.choice("01"),
                    ]
                )
            else:
                out.writerow([legacy_id] + [""] * 12)
    with open(directory / "cards.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["旧会員番号", "カード種別", "カード番号", "状態"])
        cards = 0
        for n, legacy_id in enumerate(member_ids):
            number = f"9{n:015d}"
            out.writerow([legacy_id, "programme", number, ""])
            cards_of[n].append(number)
            cards += 1
            if n % 4 == 0:
                idm = f"01{n:014X}"
                out.writerow([legacy_id, "transit_ic", idm, ""])
                cards_of[n].append(idm)
                cards += 1
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_member = [0] * members
    with open(directory / "lots.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["カード番号", "旧会員番号", "ポイント", "獲得日", "有効期限", "発行店舗コード"])
        for k in range(lots):
            n = k % members
            earned = today - datetime.timedelta(days=rng.randrange(1, 660))
            expires = _month_end(earned, 24)
            points = rng.randrange(1, 500)
            store = f"LS{rng.randrange(STORES):03d}" if rng.random() < 0.6 else ""
            if k % 3:
                out.writerow(
                    [
                        rng.choice(cards_of[n]),
                        "",
                        points,
                        earned.strftime("%Y/%m/%d"),
                        expires.strftime("%Y/%m/%d"),
                        store,
                    ]
                )
            else:
                out.writerow(["", member_ids[n], points, earned.isoformat(), expires.isoformat(), store])
            figures = by_month[f"{expires:%Y-%m}"]
            figures[0] += 1
            figures[1] += points
            per_member[n] += points
    by_rank: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ranked = set(rng.sample(range(members), RANKED))
    with open(directory / "ranks.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["旧会員番号", "ランク", "有効期限"])
        for n in sorted(ranked):
            name = RANKS[1 + n % 2][0]
            out.writerow([member_ids[n], name, _month_end(today, 6 + n % 12).isoformat()])
            by_rank[name][0] += 1
            by_rank[name][1] += per_member[n]
    unranked = [n for n in range(members) if n not in ranked]
    by_rank["ランクなし"] = [len(unranked), sum(per_member[n] for n in unranked)]
    with open(directory / "totals.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["区分", "対象", "ポイント", "件数"])
        for month, (count, points) in sorted(by_month.items()):
            out.writerow(["有効期限月", month, points, count])
        for name, (count, points) in by_rank.items():
            out.writerow(["ランク", name, points, count])
        out.writerow(["合計", "", sum(per_member), lots])
    return {"members": members, "cards": cards, "lots": lots, "ranks": RANKED}


def prepare() -> None:
    recreate_database(DATABASE)
    for args in (("migrate", "--noinput"),):
        done, _seconds = manage(DATABASE, *args)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
    done = _django(DATABASE, "--setup")
    if done.returncode:
        raise RuntimeError("setup failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))


def _django(database: str, *args: str):
    import subprocess

    from bench import ROOT, django_env

    return subprocess.run(
        [sys.executable, "-m", "bench.legacy", *args],
        cwd=ROOT,
        env=django_env(database),
        capture_output=True,
        text=True,
        timeout=600,
    )


def run(figures: dict) -> None:
    say(f"== bringing an old system over: {MEMBERS:,} members, {LOTS:,} lots into a fresh {DATABASE}")
    prepare()
    directory = Path(tempfile.mkdtemp(prefix="bench-legacy-"))
    try:
        started = time.perf_counter()
        sizes = generate(directory)
        say(f"   files generated in {time.perf_counter() - started:.0f} s: {sizes}")
        execute(DATABASE, "VACUUM ANALYZE")
        done, dry_seconds = manage(DATABASE, "import_legacy", str(directory), "--programme", PROGRAMME, "--dry-run")
        if done.returncode:
            raise RuntimeError("dry run failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
        done, seconds = manage(DATABASE, "import_legacy", str(directory), "--programme", PROGRAMME)
        if done.returncode:
            raise RuntimeError("import failed: " + " | ".join(done.stderr.strip().splitlines()[-5:]))
        reconciled = "突合：すべて一致しました。" in done.stdout or "Reconciled." in done.stdout
        verify, verify_seconds = manage(DATABASE, "verify_ledger")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    figures.update(
        {
            "legacy_import_members": sizes["members"],
            "legacy_import_lots": sizes["lots"],
            "legacy_import_seconds": round(seconds, 1),
            "legacy_import_lots_per_second": round(sizes["lots"] / seconds),
            "legacy_import_dry_run_seconds": round(dry_seconds, 1),
            "legacy_import_reconciled": reconciled,
            "legacy_import_verify_ledger_ok": verify.returncode == 0,
        }
    )
    verdict = "meets" if seconds <= TARGET_SECONDS else "ABOVE"
    say(
        f"   dry run {dry_seconds:.0f} s; import {seconds:.0f} s ({sizes['lots'] / seconds:,.0f} lots/s; {verdict} "
        f"the {TARGET_SECONDS} s target); reconciled: {reconciled}; verify_ledger "
        f"{'holds' if verify.returncode == 0 else 'FAILS'} ({verify_seconds:.0f} s)"
    )


# --- under Django, in a subprocess -------------------------------------------------------------------


def setup_main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    import django

    django.setup()
    from points.models import Participation, Programme
    from ranks.models import Rank, RankPolicy
    from stores.models import Merchant, Store

    programme, _ = Programme.objects.get_or_create(code=PROGRAMME, defaults={"name": "移行ベンチ百貨店ポイント"})
    merchant, _ = Merchant.objects.get_or_create(code="LM001", defaults={"name": "移行ベンチ株式会社"})
    for n in range(STORES):
        store, _ = Store.objects.get_or_create(
            code=f"LS{n:03d}",
            defaults={
                "merchant": merchant,
                "name": f"移行ベンチ店 {n}",
                "category": "grocery",
                "contract_start": datetime.date(2020, 1, 1),
            },
        )
        Participation.objects.get_or_create(programme=programme, store=store)
    RankPolicy.objects.get_or_create(programme=programme, defaults={"calendar_year": True})
    for name, threshold in RANKS:
        Rank.objects.get_or_create(programme=programme, name=name, defaults={"threshold_yen": threshold})


def main() -> int:
    if "--setup" in sys.argv:
        setup_main()
        return 0
    return alone("legacy import", "legacy", run)


if __name__ == "__main__":
    sys.exit(main())
