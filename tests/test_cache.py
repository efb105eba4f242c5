"""Result cache: warm runs compute nothing; a changed data file recomputes only what reads it;
corrupt entries are ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review
from tiny import write_tiny_data, write_tiny_extras

Y2025 = parse_period("2025")
SALES = ["net_sales", "orders", "aov", "buyers"]
STOCK = ["stockout_rate", "write_off_value"]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    write_tiny_data(project / "data")
    write_tiny_extras(project / "data")
    return project


def _review(project: Path):
    # as_of: the tiny shop stands for a whole year (no partial-year inference, which reads the orders)
    return build_review({"review": {"year": 2025, "min_group_size": 1, "as_of": "2025-12-31"}}, project)


def _compute_all(review) -> dict[str, float | None]:
    values = {m: review.engine.value(m, Y2025) for m in SALES + STOCK}
    review.engine.compute("net_sales", Y2025, ("month",))
    return values


def test_warm_run_computes_nothing(tmp_path):
    project = _project(tmp_path)
    cold = _review(project)
    first = _compute_all(cold)
    assert cold.engine.cache.computed > 0
    warm = _review(project)
    second = _compute_all(warm)
    assert warm.engine.cache.computed == 0
    # Every result was stored once; some were computed ahead, in a batch, and never asked for.
    stored = list((project / ".cache" / "fupan" / "results").rglob("*.json"))
    assert len(stored) == cold.engine.cache.computed
    assert 0 < warm.engine.cache.fresh <= cold.engine.cache.computed + cold.engine.cache.fresh
    assert first == second


def test_changed_file_recomputes_only_its_results(tmp_path):
    project = _project(tmp_path)
    _compute_all(_review(project))
    # Change the inventory file: one more damaged unit of P2 (cost 30) on 2025-12-31.
    path = project / "data" / "inventory.parquet"
    frame = pd.read_parquet(path)
    frame.loc[(frame["商品编码"] == "P2") & (frame["日期"].astype(str) == "2025-12-31"), "破损报损数量"] = 2
    frame.to_parquet(path, index=False)
    review = _review(project)
    sales = {m: review.engine.value(m, Y2025) for m in SALES}
    review.engine.compute("net_sales", Y2025, ("month",))
    assert review.engine.cache.computed == 0  # nothing reading orders, lines or products
    assert review.engine.cache.fresh > 0 and sales["net_sales"] == 206.0
    stock = {m: review.engine.value(m, Y2025) for m in STOCK}
    assert stock["write_off_value"] == 60.0
    # Recomputed: the inventory model's cheap aggregates, in the one scan that the first
    # inventory request (stockout SKU-days) started.
    inventory = [m for m in review.catalogue.metrics.values()
                 if m.model == "inventory" and m.kind == "aggregate" and m.agg != "count_distinct"]
    assert review.engine.cache.computed == len(inventory)


def test_corrupt_entry_is_ignored_and_rebuilt(tmp_path):
    project = _project(tmp_path)
    cold = _review(project)
    expected = cold.engine.value("net_sales", Y2025)
    for entry in (project / ".cache" / "fupan" / "results").rglob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    review = _review(project)
    assert review.engine.value("net_sales", Y2025) == expected == 206.0
    assert review.engine.cache.fresh == 0 and review.engine.cache.computed == 2  # gmv, refunds


def test_cache_folder_can_be_deleted(tmp_path):
    project = _project(tmp_path)
    _review(project).engine.value("orders", Y2025)
    shutil.rmtree(project / ".cache")
    assert _review(project).engine.value("orders", Y2025) == 4.0


def _build_log(project: Path) -> str:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(project / "site")],
        cwd=project, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_text_edit_rebuild_computes_zero_metrics(tmp_path):
    import re

    from tiny import make_project

    project = make_project(tmp_path / "site-project")
    first = _build_log(project)
    assert int(re.search(r"fupan: \d+ results fresh from cache, (\d+) computed", first)[1]) > 0
    page = project / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n\n新增一段说明文字。\n", encoding="utf-8")
    second = _build_log(project)
    assert re.search(r"fupan: \d+ results fresh from cache, 0 computed", second), second[-2000:]


# ---- macro outputs (outputs.py) -------------------------------------------------------------------

OUTPUT_PAGE = """# 测试

订单数 {{ value("orders") }}。

{{ monthly_trend("net_sales") }}

{{ monthly_trend("net_sales") }}
"""


def _chart_ids(html: str) -> list[str]:
    import re

    return re.findall(r'<figure[^>]* id="([^"]+)"', html)


def test_macro_outputs_are_reused_until_the_data_changes(tmp_path):
    import re

    from tiny import make_project, orders_frame

    project = make_project(tmp_path / "site-project", docs={"index.md": OUTPUT_PAGE})
    first = _build_log(project)
    assert re.search(r"fupan: \d+ macro outputs fresh from cache, [1-9]\d* rendered", first), first[-2000:]
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    ids = _chart_ids(home)
    assert len(ids) == 2 and ids[1] == ids[0] + "-2"  # the same chart twice: distinct ids
    assert re.search(r'data-metric="orders" data-value="4.0"[^>]*>4</a>。', home)  # O3, O4, O5, O7 paid in 2025
    pages = {p: p.read_bytes() for p in (project / "site").rglob("*.html")}
    figures_file = (project / "site" / "figures.json").read_bytes()
    assert b'"metric": "orders"' in figures_file and b'"value": 4.0' in figures_file

    # A text edit: every macro output comes from the cache, the ids are claimed again, and
    # every other page is byte for byte the same.
    (project / "docs" / "index.md").write_text(OUTPUT_PAGE + "\n补充一句。\n", encoding="utf-8")
    second = _build_log(project)
    assert re.search(r"fupan: [1-9]\d* macro outputs fresh from cache, 0 rendered", second), second[-2000:]
    again = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert _chart_ids(again) == ids and "补充一句。" in again
    assert [p for p, data in pages.items() if p.read_bytes() != data] == [project / "site" / "index.html"]
    # The figures of the outputs taken from the cache are recorded again (figures.py).
    assert (project / "site" / "figures.json").read_bytes() == figures_file

    # A data change (O7 no longer paid): the outputs that read it are rendered again.
    orders = orders_frame()
    orders.loc[orders["订单编号"] == "O7", "支付时间"] = pd.NaT
    orders.to_parquet(project / "data" / "orders.parquet", index=False)
    third = _build_log(project)
    assert not re.search(r"fupan: \d+ macro outputs fresh from cache, 0 rendered", third)
    assert re.search(r'data-metric="orders" data-value="3.0"[^>]*>3</a>。',
                     (project / "site" / "index.html").read_text(encoding="utf-8"))


# A build run in a child process that reports, at exit, which heavy libraries it really imported
# (macros/lazy.py imports them on first use).
_REPORTING_BUILD = (
    "import atexit, sys\n"
    "def report():\n"
    "    loaded = [k for k in ('pandas', 'numpy', 'altair') if k in sys.modules]\n"
    "    print('HEAVY', ','.join(loaded), file=sys.stderr)\n"
    "atexit.register(report)\n"
    "from mkdocs.__main__ import cli\n"
    "sys.argv = ['mkdocs', 'build', '--strict', '-d', sys.argv[1]]\n"
    "cli()\n"
)

ABOUT_PAGE = "# 关于\n\n{{ about() }}\n\n{{ data_checks() }}\n"


def _reporting_build(project, epoch: str) -> tuple[str, str]:
    import os
    import re
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _REPORTING_BUILD, str(project / "site")], cwd=project,
                            capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": epoch})
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    return log, re.search(r"HEAVY (.*)", log)[1]


def test_a_text_edit_rebuild_imports_no_heavy_library_and_site_pages_follow_the_build_time(tmp_path):
    """After a text edit every output comes from the cache: pandas, NumPy and Altair are never
    imported. The pages about the site are kept too, but a new build time renders them again."""
    import re

    from tiny import make_project

    project = make_project(tmp_path / "site-project", docs={"index.md": OUTPUT_PAGE, "about.md": ABOUT_PAGE})
    first, heavy = _reporting_build(project, "1700000000")
    assert "pandas" in heavy and "altair" in heavy  # the first build computes and draws
    assert "2023-11-14 22:13 UTC" in (project / "site" / "about" / "index.html").read_text(encoding="utf-8")

    (project / "docs" / "index.md").write_text(OUTPUT_PAGE + "\n补充一句。\n", encoding="utf-8")
    second, heavy = _reporting_build(project, "1700000000")
    assert re.search(r"fupan: [1-9]\d* macro outputs fresh from cache, 0 rendered", second), second[-2000:]
    assert heavy == "", second[-2000:]

    third, _ = _reporting_build(project, "1800000000")
    assert re.search(r"fupan: \d+ macro outputs fresh from cache, [1-9]\d* rendered", third), third[-2000:]
    assert "2027-01-15 08:00 UTC" in (project / "site" / "about" / "index.html").read_text(encoding="utf-8")
