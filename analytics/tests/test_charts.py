"""The charts as SVG: every bar drawn, Japanese labels, hidden groups drawn as "5名未満"."""

from xml.etree import ElementTree

from django.utils import translation

from analytics.charts import Chart, Heatmap, Series, svg
from common.privacy import SMALL_GROUP

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def texts(root) -> list[str]:
    return [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]


def test_a_bar_chart_draws_a_bar_per_figure_and_a_stub_per_hidden_one():
    chart = Chart(
        title="ポイントの発行",
        labels=["2026/05", "2026/06", "2026/07"],
        series=[Series("発行ポイント", [120, SMALL_GROUP, 0]), Series("利用ポイント", [40, 10, None])],
        unit="pt",
    )
    with translation.override("ja"):
        root = parse(svg(chart))
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    hidden = root.findall(".//svg:rect[@class='bar small-group']", NS)
    assert len(bars) == 4 and len(hidden) == 1
    assert {"ポイントの発行", "2026/05", "発行ポイント", "利用ポイント", "5名未満"} <= set(texts(root))
    assert "IPAexGothic" in root.get("style")


def test_taller_figures_draw_taller_bars():
    root = parse(svg(Chart(title="t", labels=["a", "b"], series=[Series("s", [100, 50])])))
    first, second = (float(bar.get("height")) for bar in root.findall(".//svg:rect[@class='bar']", NS))
    assert abs(first - 2 * second) < 1


def test_a_line_chart_draws_a_line_through_its_points():
    root = parse(svg(Chart(title="残高", labels=["a", "b", "c"], series=[Series("残高", [5, 7, 9], kind="line")])))
    [line] = root.findall(".//svg:polyline", NS)
    assert len(line.get("points").split()) == 3


def test_a_heatmap_shades_cells_and_hatches_hidden_ones():
    heatmap = Heatmap(title="回遊", rows=["ベーカリー"], columns=["カフェ", "書店"], cells=[[30, SMALL_GROUP]])
    with translation.override("ja"):
        root = parse(svg(heatmap))
    assert len(root.findall(".//svg:rect[@class='cell']", NS)) == 1
    assert len(root.findall(".//svg:rect[@class='cell small-group']", NS)) == 1
    assert {"ベーカリー", "カフェ", "書店", "5名未満"} <= set(texts(root))


def test_labels_are_escaped():
    root = parse(svg(Chart(title="<b>&", labels=["<x>"], series=[Series("s&s", [1])])))
    assert "<b>&" in texts(root)
