"""Finding sentences on the tiny shop (values by hand, see tests/tiny.py)."""

from __future__ import annotations

import pytest
from fupan.site.finding_macros import (
    finding_mover,
    finding_pareto,
    finding_peak,
    finding_share_shift,
    finding_stockout,
    finding_target,
)
from tiny import tiny_review


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return tiny_review(tmp_path_factory.mktemp("f"), extras=True)


@pytest.mark.parametrize(
    ("finding", "kwargs", "expected"),
    [
        # 2025 net sales by month: Jan 70, Jun 100, Nov 36 (total 206).
        (finding_peak, {}, "净销售额峰值在<strong>2025年6月</strong>（¥100.00，占全年 48.5%），"
                           "谷值在<strong>2025年11月</strong>（¥36.00，占 17.5%）。"),
        # English writes the yuan CN¥ (CLDR: ¥ alone is also the yen).
        (finding_peak, {"locale": "en"}, "Net sales peaked in <strong>Jun 2025</strong> (CN¥100.00, 48.5% "
                                         "of the year) and was lowest in <strong>Nov 2025</strong>"),
        # 零食 20 → 66 (+230%), 家居 50 → 140 (+180%): both grew.
        (finding_mover, {}, '增长最快的<span data-dimension="category">品类</span>是'
                            "<strong>零食</strong>（净销售额+230.0%），增长最慢的是<strong>家居</strong>（+180.0%）。"),
        # 京东: 50 of 70 (71.4%) → 10 of 206 (4.9%).
        (finding_share_shift, {}, "<strong>京东</strong>的净销售额占比从 71.4% 变为 4.9%（-66.6个百分点）"),
        # Inside an English sentence the metric is a word: lower case.
        (finding_share_shift, {"locale": "en"}, "<strong>京东</strong>'s share of net sales moved from 71.4% to 4.9% "
                                                "(-66.6 pp)"),
        (finding_pareto, {}, '<span data-dimension="sku">SKU</span>（1 个，共 2 个）'
                             "贡献了 <strong>68.0%</strong> 的净销售额"),
        (finding_target, {}, "净销售额目标达成率 <strong>103.0%</strong>（目标 ¥200.00，实际 ¥206.00）"),
        (finding_stockout, {}, "<strong>坚果礼盒</strong>（P1），2025年11月30日 至 2025年12月30日 共缺货 2 天"),
    ],
)
def test_finding_sentences(shop, finding, kwargs, expected):
    assert expected in finding(shop, **kwargs)


def test_names_from_data_are_escaped(tmp_path):
    import pandas as pd
    from fupan.site.context import build_review
    from tiny import write_tiny_data

    project = tmp_path / "p"
    write_tiny_data(project / "data")
    products = pd.read_csv(project / "data" / "products.csv")
    products.loc[products["商品编码"] == "P1", "品类"] = "<b>零食</b> & {{ x }}"
    products.to_csv(project / "data" / "products.csv", index=False)
    html = finding_mover(build_review({"review": {"year": 2025, "min_group_size": 1}}, project))
    assert "&lt;b&gt;零食&lt;/b&gt; &amp; {{ x }}" in html and "<b>" not in html
