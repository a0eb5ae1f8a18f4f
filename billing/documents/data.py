"""What a statement document says, as plain frozen dataclasses: the renderers never see a model.

Yen are integers throughout; every figure arrives already computed and rounded, so the
renderers only format what they are given and never recompute money.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Party:
    name: str
    postal_code: str = ""
    address: str = ""
    registration_number: str = ""  # 適格請求書発行事業者登録番号 "T" + 13 digits, or "" when the party has none
    phone: str = ""


@dataclass(frozen=True)
class Line:
    kind: str  # machine code: "points_issued", "points_spent", "bonus_store", "void_issued", "void_spent", ...
    description: str  # Japanese text, ready to print, e.g. "ポイント発行 (1ポイント 1.00円)"
    quantity: int | None  # points or count, None when not meaningful
    unit: str  # "pt", "台", "件", "" ...
    unit_price: str  # ready-to-print text such as "1.00円" or ""
    amount_yen: int  # signed: positive = the store owes the secretariat, negative = the secretariat owes the store
    tax: str  # "taxable_10" (10% consumption tax applies, amount is before tax) or "non_taxable" (不課税)


@dataclass(frozen=True)
class Day:
    date: datetime.date
    points_issued: int
    points_spent: int
    transactions: int


@dataclass(frozen=True)
class TaxSummary:
    rate_percent: int  # 10
    taxable_amount_yen: int  # signed sum of the lines at that rate, before tax
    tax_yen: int  # tax computed once for the rate on this document


@dataclass(frozen=True)
class StatementDocument:
    number: str  # document number, e.g. "2026-000123"
    issued_on: datetime.date
    period_label: str  # e.g. "2026年10月分"
    period_start: datetime.date  # first day
    period_end: datetime.date  # last day, inclusive
    due_on: datetime.date
    issuer: Party  # the secretariat (商店街の事務局)
    recipient: Party  # the merchant (company)
    store_code: str
    store_name: str
    direction: str  # "store_pays" | "store_is_paid" | "even"
    lines: tuple[Line, ...]
    days: tuple[Day, ...]  # every day of the period with activity, in order
    tax_summaries: tuple[TaxSummary, ...]
    non_taxable_total_yen: int  # signed sum of non_taxable lines
    net_amount_yen: int  # signed grand total: non-taxable + taxable + tax; positive = store pays
    payment_note: str  # ready-to-print text: where to pay or where the money is paid to
    rounding_note: str  # e.g. "消費税は税率ごとに合計した金額に対して1回計算し、1円未満を切り捨てています。"
    adjustments_note: str = ""  # free text (reasons of adjustment lines), may be empty


# --- Sample -------------------------------------------------------------------

# Sundays and two holidays of October 2026: 25 of its 31 days have activity.
_SAMPLE_CLOSED_DAYS = frozenset({4, 11, 13, 18, 25, 27})


def _sample_days() -> tuple[Day, ...]:
    # Arithmetic rather than random numbers, so that tests can rely on the totals.
    return tuple(
        Day(
            date=datetime.date(2026, 10, day),
            points_issued=1_500 + day * 137 % 900,
            points_spent=900 + day * 89 % 700,
            transactions=18 + day * 7 % 11,
        )
        for day in range(1, 32)
        if day not in _SAMPLE_CLOSED_DAYS
    )


def _yen_at(points: int, price_bp: int) -> int:
    """Points at a price in 1/10,000 yen, fractions cut toward zero as the billing app does."""
    yen = abs(points) * price_bp // 10_000
    return yen if points >= 0 else -yen


def _sample_lines(days: tuple[Day, ...]) -> tuple[Line, ...]:
    issued = sum(day.points_issued for day in days)
    spent = sum(day.points_spent for day in days)
    transactions = sum(day.transactions for day in days)
    return (
        Line("points_issued", "ポイント発行 (1ポイント 1.00円)", issued, "pt", "1.00円", issued, "non_taxable"),
        Line(
            "points_spent",
            "ポイント利用 (1ポイント 0.95円)",
            spent,
            "pt",
            "0.95円",
            -_yen_at(spent, 9_500),
            "non_taxable",
        ),
        Line("bonus_store", "店舗負担ボーナスポイント（秋の感謝祭）", 2_400, "pt", "1.00円", 2_400, "non_taxable"),
        Line("void_issued", "ポイント発行取消", 500, "pt", "1.00円", -500, "non_taxable"),
        Line("void_spent", "ポイント利用取消", 200, "pt", "0.95円", _yen_at(200, 9_500), "non_taxable"),
        Line("system_fee", "システム利用料（月額）", None, "", "", 3_000, "taxable_10"),
        Line("terminal_rental", "決済端末レンタル料", 2, "台", "1,500円", 3_000, "taxable_10"),
        Line("transaction_fee", "取引手数料", transactions, "件", "5円", transactions * 5, "taxable_10"),
        Line("adjustment", "調整：9月分 決済端末レンタル料の過請求分", None, "", "", -1_500, "taxable_10"),
    )


def sample_document() -> StatementDocument:
    """A realistic October 2026 statement of one greengrocer: used by tests and by the benchmark."""
    days = _sample_days()
    lines = _sample_lines(days)
    non_taxable = sum(line.amount_yen for line in lines if line.tax == "non_taxable")
    taxable = sum(line.amount_yen for line in lines if line.tax == "taxable_10")
    tax = taxable * 10 // 100 if taxable >= 0 else -(-taxable * 10 // 100)
    net = non_taxable + taxable + tax
    return StatementDocument(
        number="2026-000123",
        issued_on=datetime.date(2026, 11, 5),
        period_label="2026年10月分",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        due_on=datetime.date(2026, 11, 30),
        issuer=Party(
            name="さくら通り商店街振興組合 事務局",
            postal_code="166-0004",
            address="東京都杉並区阿佐谷南二丁目3番4号 さくら会館2階",
            registration_number="T1234567890123",
            phone="03-1234-5678",
        ),
        recipient=Party(
            name="株式会社まるやま商店",
            postal_code="166-0004",
            address="東京都杉並区阿佐谷南一丁目8番2号",
            registration_number="T9876543210987",
            phone="03-9876-5432",
        ),
        store_code="S-0042",
        store_name="まるやま青果店 阿佐谷店",
        direction="store_pays" if net > 0 else "store_is_paid" if net < 0 else "even",
        lines=lines,
        days=days,
        tax_summaries=(TaxSummary(rate_percent=10, taxable_amount_yen=taxable, tax_yen=tax),),
        non_taxable_total_yen=non_taxable,
        net_amount_yen=net,
        payment_note=(
            "お支払期限までに下記口座へお振り込みください（振込手数料はご負担ください）。\n"
            "さくら信用金庫 阿佐谷支店 普通 1234567 サクラドオリシヨウテンガイシンコウクミアイ"
        ),
        rounding_note="消費税は税率ごとに合計した金額に対して1回計算し、1円未満を切り捨てています。",
        adjustments_note=(
            "9月分の決済端末レンタル料を2台分でご請求しておりましたが、9月16日に1台をご返却いただいていたため、"
            "過請求分1,500円（税抜）を今回減額しています。"
        ),
    )
