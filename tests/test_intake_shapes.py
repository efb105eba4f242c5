"""Each export shape, from a hand-made file of the tiny shop to the built site's figures.

The figures are worked out by hand in tests/tiny.py and tests/tiny_exports.py; each shape's file
carries the quirks that shape brings in real exports. The site is built with MkDocs, as a shop
would build it, and the numbers are read from the page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tiny_exports as te
from tiny import REPO, write_tiny_data

MKDOCS = """\
site_name: 小店复盘
theme: {name: material, language: zh, font: false}
plugins:
  - search
  - macros: {module_name: macros/main, on_error_fail: true, on_undefined: strict}
hooks: [macros/hooks.py]
extra:
  review: {company: 小店, year: 2025, compare_year: 2024, min_group_size: 1}
"""
PAGE = """\
# 复盘

NS={{ value("net_sales", period=2025) }}
OR={{ value("orders", period=2025) }}
AOV={{ value("aov", period=2025) }}
BU={{ value("buyers", period=2025) }}
RR={{ value("repurchase_rate", period=2025) }}

{{ export_rules() }}

{{ data_checks() }}
"""


def make_export_project(root: Path, write) -> Path:
    root.mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "data").mkdir()
    (root / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (root / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    shutil.copytree(REPO / "macros", root / "macros", ignore=shutil.ignore_patterns("fupan", "__pycache__"))
    declaration = write(root / "data")
    (root / "data" / "datasets.yml").write_text(declaration, encoding="utf-8")
    return root


def build(project: Path) -> tuple[subprocess.CompletedProcess, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop("FUPAN_SITE_URL", None)
    result = subprocess.run([sys.executable, "-m", "fupan", "build", "-d", "site"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    html = (project / "site" / "index.html").read_text(encoding="utf-8") if result.returncode == 0 else ""
    return result, html


def shown(html: str, label: str) -> float:
    """The number after `label=` on the page (thousands separators, ¥ and % removed)."""
    match = re.search(label + r"=<a [^>]*>([^<]+)</a>", html)
    assert match is not None, f"{label} not on the page"
    text = match.group(1)
    number = float(re.sub(r"[^\d.\-]", "", text))
    return number / 100 if "%" in text else number


def assert_figures(html: str, expected: dict[str, float]) -> None:
    assert shown(html, "NS") == pytest.approx(expected["net_sales"], abs=0.005)
    assert shown(html, "OR") == expected["orders"]
    assert shown(html, "AOV") == pytest.approx(expected["aov"], abs=0.005)
    assert shown(html, "BU") == expected["buyers"]
    assert shown(html, "RR") == pytest.approx(expected["repurchase_rate"], abs=0.0005)


SHAPES = {
    "lines": (te.write_lines_shape, te.EXPECTED_WITH_ANONYMOUS),
    "first_line": (te.write_first_line_shape, te.EXPECTED),
    "orders": (te.write_orders_shape, te.EXPECTED_WITH_ANONYMOUS),
    "joined": (te.write_joined_shape, te.EXPECTED),
    "returns": (te.write_returns_shape, te.EXPECTED),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_builds_with_the_hand_worked_figures(shape: str, tmp_path: Path) -> None:
    write, expected = SHAPES[shape]
    project = make_export_project(tmp_path / shape, write)
    result, html = build(project)
    assert result.returncode == 0, result.stderr[-4000:]
    assert_figures(html, expected)
    # The keys and references the data checks take as holding, counted here over the derived rows.
    from fupan.site.context import build_review

    review = build_review({"review": {"company": "小店", "year": 2025, "compare_year": 2024}}, project)
    broken = te.broken_derivation_guarantees(review.store.intake.files)
    assert broken and set(broken.values()) == {0}, broken
    checks = re.findall(r"<tr><td>(orders|order_lines|products)</td><td>\d+</td><td>(unique|references)</td>"
                        r"<td>0</td><td>([^<]+)</td></tr>", html)
    taken = "通过 *"
    assert "由整理步骤本身保证，不再逐行清点" in html
    assert ("orders", "unique", taken) in checks and ("order_lines", "unique", taken) in checks
    assert ("order_lines", "references", taken) in checks


def test_columns_the_review_does_not_read_change_nothing_and_are_named(tmp_path: Path) -> None:
    """Real exports carry many columns no preset maps (buyer notes, logistics): they are not
    staged, the figures are those of the hand-worked file, and the data checks name them."""
    def write(data: Path) -> str:
        declaration = te.write_lines_shape(data)
        path = data / "lines.csv"
        rows = path.read_text(encoding="utf-8-sig").splitlines()
        out = [rows[0] + ",Buyer Note,Carrier"] + [row + f",note {i},SF" for i, row in enumerate(rows[1:])]
        path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8-sig")
        return declaration

    result, html = build(make_export_project(tmp_path / "wide", write))
    assert result.returncode == 0, result.stderr[-4000:]
    assert_figures(html, te.EXPECTED_WITH_ANONYMOUS)
    assert "2 column(s) not used by the review: Buyer Note, Carrier" in html  # the data checks' warnings


def test_normalised_files_give_the_same_figures(tmp_path: Path) -> None:
    def write(data: Path) -> str:
        write_tiny_data(data)
        return (data / "datasets.yml").read_text(encoding="utf-8")

    result, html = build(make_export_project(tmp_path / "normalised", write))
    assert result.returncode == 0, result.stderr[-4000:]
    assert_figures(html, te.EXPECTED)
    assert "通过 *" not in html and "由整理步骤本身保证" not in html  # the shop's own files: every check counted


def test_a_column_declared_a_dimension_is_one_for_every_macro_with_its_own_label(tmp_path: Path) -> None:
    """Region (order-level) and ship mode (line-level) from the data: by hand, 2025 net sales of
    East (O3 80 − 10, O4 90) = 160, of West (O5 10, O7 36, A1 20, A2 30) = 96; the P2 lines
    shipped by air (O3 50, O4 90, A2 30) = 170."""
    def write(data: Path) -> str:
        te.write_lines_shape(data)
        path = data / "lines.csv"
        rows = path.read_text(encoding="utf-8-sig").splitlines()
        out = [rows[0] + ",Region,Ship Mode"]
        for row in rows[1:]:
            order, sku = row.split(",")[0], row.split(",")[6]
            out.append(row + f",{'East' if order in ('O3', 'O4') else 'West'},{'Air' if sku == 'P2' else 'Ground'}")
        path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8-sig")
        return te.LINES_DECLARATION.replace(
            "      refunded_quantity: {header: Returned Qty}\n",
            "      refunded_quantity: {header: Returned Qty}\n"
            "      region: {header: Region, dimension: {zh: 大区, en: Region}}\n"
            "      ship_mode: {header: Ship Mode, level: line, dimension: {zh: 运输方式, en: Ship mode}}\n")

    project = make_export_project(tmp_path / "dims", write)
    (project / "docs" / "index.md").write_text(
        '# 复盘\n\nE={{ value("net_sales", period=2025, filters={"region": "East"}) }}\n'
        'W={{ value("net_sales", period=2025, filters={"region": "West"}) }}\n'
        'AIR={{ value("gmv", period=2025, filters={"ship_mode": "Air"}) }}\n\n'
        '{{ table(["net_sales"], by="region", period=2025) }}\n', encoding="utf-8")
    result, html = build(project)
    assert result.returncode == 0, result.stderr[-4000:]
    assert shown(html, "E") == 160.0
    assert shown(html, "W") == 96.0
    assert shown(html, "AIR") == 170.0
    assert "大区" in html and "平台" not in html
