"""The sample company in every platform's layout builds the same headline figures as from its
canonical files, to the cent: net sales, orders, AOV, buyers, repurchase rate, and gross margin
where the layout carries cost.

The canonical build and each layout's build use the same page (the home page's KPI cards and
the figures as numbers); a layout replaces the orders, lines and products with its export file(s)
and keeps the other datasets (users, traffic, …) as they are.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fupan.intake.presets import load_preset, preset_names
from fupan.sample.layouts import write_layout
from tiny import REPO
from tiny_exports import broken_derivation_guarantees

FIGURES = ["net_sales", "orders", "aov", "buyers", "repurchase_rate", "gross_margin"]
PAGE = "# 复盘\n\n" + "\n".join(f'{m}=<span>{{{{ value("{m}") }}}}</span>' for m in FIGURES) + """

{{ kpis(["net_sales", "orders", "aov", "buyers", "gross_margin", "conversion_rate", "repurchase_rate"]) }}

{{ export_rules() }}
"""
MKDOCS = """\
site_name: 山野良品复盘
theme: {name: material, language: zh, font: false}
plugins:
  - search
  - macros: {module_name: macros/main, on_error_fail: true, on_undefined: strict}
hooks: [macros/hooks.py]
extra:
  review: {company: 山野良品, year: 2025, compare_year: 2024}
"""
DERIVED = ("orders", "order_lines", "products")
COST_COLUMNS = {"unit_cost", "line_cost", "line_profit"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layouts") / "data"
    subprocess.run([sys.executable, "-m", "fupan.sample", "--out", str(out), "--orders", "3000", "--seed", "7"],
                   check=True, capture_output=True, timeout=600)
    shutil.copy(REPO / "data" / "datasets.yml", out / "datasets.yml")
    return out


def _project(root: Path, data: Path) -> Path:
    root.mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (root / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    shutil.copytree(REPO / "macros", root / "macros", ignore=shutil.ignore_patterns("fupan", "__pycache__"))
    shutil.copytree(data, root / "data")
    return root


def _review(project: Path):
    from fupan.site.context import build_review

    return build_review({"review": {"company": "山野良品", "year": 2025, "compare_year": 2024}}, project)


def _exact(project: Path) -> dict[str, float | None]:
    """The same figures unrounded, from the engine the site was built with (the page shows
    ¥19.5万; the cents are compared here)."""
    review = _review(project)
    period = review.period(None)
    return {m: review.engine.value(m, period) for m in FIGURES}


def _figures(project: Path) -> dict[str, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop("FUPAN_SITE_URL", None)
    result = subprocess.run([sys.executable, "-m", "fupan", "build", "-d", "site"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    html = (project / "site" / "index.html").read_text(encoding="utf-8")
    return {m: re.search(m + r"=<span><a [^>]*>([^<]+)</a>", html).group(1) for m in FIGURES}


@pytest.fixture(scope="module")
def canonical_project(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("canonical") / "shop", sample)


@pytest.fixture(scope="module")
def canonical(canonical_project: Path) -> dict[str, str]:
    return _figures(canonical_project)


@pytest.fixture(scope="module")
def canonical_exact(canonical_project: Path, canonical: dict[str, str]) -> dict[str, float | None]:
    return _exact(canonical_project)


def _maps(exports: dict, columns: set[str]) -> bool:
    """Whether the layout's presets map (or compute) any of these canonical columns."""
    for export in exports.values():
        preset = load_preset(export["preset"]).export
        if columns & (set(preset["columns"]) | set((preset.get("rules") or {}).get("compute") or {})):
            return True
    return False


def _referencing(contract: dict, dataset: str) -> list[str]:
    return [name for name, spec in contract["datasets"].items()
            if any(str(c.get("references", "")).startswith(dataset + ".")
                   for c in (spec.get("columns") or {}).values())]


@pytest.mark.parametrize("preset", preset_names())
def test_the_sample_in_each_layout_shows_the_canonical_headline_figures(preset, sample, canonical, canonical_exact,
                                                                       tmp_path):
    """A layout with product codes keeps the shop's product master (products.csv) next to the
    export, as a shop with stock data has; a layout with product titles only (no codes) derives
    its products from the lines and leaves out the stock data that refers to product codes."""
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    for name in ("orders.parquet", "order_lines.parquet"):
        (data / name).unlink()
    exports = write_layout(preset, sample, data)
    contract = yaml.safe_load((data / "datasets.yml").read_text(encoding="utf-8"))
    keep_master = _maps(exports, {"sku"})
    dropped = ["orders", "order_lines"] if keep_master else ["orders", "order_lines", "products",
                                                           *_referencing(contract, "products")]
    # Platforms write their own buyer and order ids (an e-mail, "#1001"): data keyed by the
    # sample's ids (members, complaints, …) does not join them, and the headline figures do not
    # need it.
    dropped += ["users", *_referencing(contract, "users"), *_referencing(contract, "orders")]
    for name in dict.fromkeys(dropped):
        contract["datasets"].pop(name, None)
    contract["exports"] = exports
    (data / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    project = _project(tmp_path / "shop", data)
    shown = _figures(project)
    expected, exact = dict(canonical), _exact(project)
    expected_exact = dict(canonical_exact)
    if not keep_master and not _maps(exports, COST_COLUMNS):
        assert shown["gross_margin"] == "—"  # no cost anywhere: not computable, and not made up
        expected["gross_margin"], expected_exact["gross_margin"] = "—", None
    assert shown == expected
    assert exact == pytest.approx(expected_exact, abs=0.005)
    # The keys and references the data checks take as holding, counted over the derived rows.
    broken = broken_derivation_guarantees(_review(project).store.intake.files)
    assert set(broken.values()) == {0}, broken
    assert ("products: sku repeated" in broken) == (not keep_master)


def test_a_layout_with_cost_gives_the_gross_margin_without_a_product_master(sample, canonical, canonical_exact,
                                                                           tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    for name in ("orders.parquet", "order_lines.parquet", "products.csv"):
        (data / name).unlink()
    exports = write_layout("generic_lines", sample, data)
    contract = yaml.safe_load((data / "datasets.yml").read_text(encoding="utf-8"))
    for name in ["orders", "order_lines", "products", *_referencing(contract, "products"), "users",
                 *_referencing(contract, "users"), *_referencing(contract, "orders")]:
        contract["datasets"].pop(name, None)
    contract["exports"] = exports
    (data / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    project = _project(tmp_path / "shop", data)
    assert _figures(project) == canonical
    assert _exact(project) == pytest.approx(canonical_exact, abs=0.005)
