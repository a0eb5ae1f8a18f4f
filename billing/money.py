"""Yen arithmetic for the monthly bill. Integers only; every rounding rule is here, stated once."""

from __future__ import annotations

TAX_RATE_PERCENT = 10
BP = 10_000

ROUNDING_NOTE = (
    "ポイント精算額は項目ごとに1円未満を切り捨て、消費税は税率ごとの合計額に対して1回計算し1円未満を切り捨てています。"
)


def _toward_zero(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero (Python's // rounds toward minus infinity)."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def points_to_yen(points: int, *, price_bp: int) -> int:
    """Points at a price in 1/10,000 yen per point, fractions of a yen cut off (toward zero)."""
    return _toward_zero(points * price_bp, BP)


def consumption_tax(taxable_yen: int, *, rate_percent: int = TAX_RATE_PERCENT) -> int:
    """Tax on one document's total at one rate, computed once, fractions cut off (toward zero).

    The qualified invoice rules allow one rounding per rate per document; cutting
    toward zero treats a credit the same way as a charge.
    """
    return _toward_zero(taxable_yen * rate_percent, 100)


def price_text(price_bp: int) -> str:
    """1/10,000 yen per point as printed, e.g. 9,500 → "0.95円"."""
    yen, rest = divmod(price_bp, BP)
    return f"{yen:,}.{rest // 100:02d}円" if rest % 100 == 0 else f"{yen:,}.{rest:04d}円"
