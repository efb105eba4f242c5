"""Targets (issue 20 item 1): rows in the catalogue's order, the whole shop before a platform,
a met/missed mark that knows when lower is better, the scope in the reader's language.

The tiny shop's targets for 2025 (tests/tiny.py), worked out by hand:
- net_sales 全部 200: actual 206 (216 GMV − 10 refunds) → 103.0 %, met
- net_sales 抖音 100: actual 90 + 36 = 126 (O4, O7) → 126.0 %, met
- orders 全部 8: actual 4 → 50.0 %, missed
- complaint_rate 全部 25 %: 2 complaints ÷ 4 orders = 50 %, lower is better → 25 ÷ 50 = 50.0 %, missed
"""

from __future__ import annotations

import re

import pytest
from fupan.site.section_macros import targets_table
from tiny import tiny_review


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return tiny_review(tmp_path_factory.mktemp("targets"), extras=True)


def rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_targets_in_catalogue_order_with_met_and_missed(shop) -> None:
    assert rows(targets_table(shop)) == [
        ["净销售额", "全部", "¥200.00", "¥206.00", "103.0%", "✔ 达成"],
        ["净销售额", "抖音", "¥100.00", "¥126.00", "126.0%", "✔ 达成"],
        ["订单量", "全部", "8", "4", "50.0%", "✘ 未达成"],
        ["投诉率", "全部", "25.0%", "50.0%", "50.0%", "✘ 未达成"],
    ]


def test_targets_in_english(shop) -> None:
    table = rows(targets_table(shop, locale="en"))
    assert [row[1] for row in table] == ["All", "抖音", "All", "All"]  # 抖音: the shop's own platform name
    assert [row[-1] for row in table] == ["✔ Met", "✔ Met", "✘ Missed", "✘ Missed"]
