import pytest

from billing.money import consumption_tax, points_to_yen, price_text


@pytest.mark.parametrize(
    ("points", "price_bp", "yen"),
    [
        (1_234, 10_000, 1_234),  # 1 point = 1 yen
        (1_234, 9_500, 1_172),  # 1,172.3 cut off
        (999, 9_999, 998),  # 998.9001 cut off, never rounded up
        (-1_234, 9_500, -1_172),  # a credit is cut toward zero too, not to -1,173
        (0, 9_500, 0),
    ],
)
def test_points_to_yen_cuts_fractions_toward_zero(points, price_bp, yen):
    assert points_to_yen(points, price_bp=price_bp) == yen


@pytest.mark.parametrize(
    ("taxable", "tax"),
    [(3_000, 300), (3_333, 333), (19, 1), (9, 0), (-3_333, -333), (0, 0)],
)
def test_consumption_tax_is_ten_percent_cut_once_per_document(taxable, tax):
    assert consumption_tax(taxable) == tax


def test_tax_on_a_total_differs_from_the_sum_of_tax_per_line():
    # Three fee lines of 1,555 yen: tax on the total is 466, per line it would be 3 x 155 = 465.
    assert consumption_tax(3 * 1_555) == 466


@pytest.mark.parametrize(("price_bp", "text"), [(10_000, "1.00円"), (9_500, "0.95円"), (9_875, "0.9875円")])
def test_price_text_prints_yen_per_point(price_bp, text):
    assert price_text(price_bp) == text
