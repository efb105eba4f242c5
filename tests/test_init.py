"""`fupan init`: a new review project that builds at once, with the shop's export or the sample.

The main test makes a project from a JD order export that stops on a December day and builds it:
the home page's net sales, orders, AOV and buyers equal what pandas computes from the export file
itself (the preset's status words applied by hand), the log warns about the partial year and the
commentary not yet written. The README's commands are run as written (the export's path and the
fupan command substituted).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pandas as pd
import pytest
from conftest import SOURCE_DATE_EPOCH
from fupan.intake.presets import load_preset
from fupan.project.init import TEMPLATES, InitError, _exports_for, review_year
from fupan.sample.layouts import write_layout
from fupan.site.reminders import find_unfinished

REPO = Path(__file__).resolve().parents[1]
FUPAN = [sys.executable, "-m", "fupan"]
HEADLINE = ("net_sales", "orders", "aov", "buyers")
LAST_DAY = "2025-12-09"  # the partial export's last order day


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("FUPAN_SITE_URL", None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def jd_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample company's orders (small) as a JD export file, 2024-01-01 – 2025-12-31."""
    root = tmp_path_factory.mktemp("jd")
    subprocess.run([*FUPAN[:2], "fupan.sample", "--out", str(root / "sample"), "--orders", "3000", "--seed", "7"],
                   check=True, capture_output=True, timeout=600)
    write_layout("jd", root / "sample", root / "export")
    return root / "export" / "jd_orders.csv"


def _read_jd(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def partial_export(jd_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same export as downloaded on 10 December: orders placed and paid up to 9 December."""
    frame = _read_jd(jd_export)
    cut = LAST_DAY + " 23:59:59"
    kept = frame[(frame["下单时间"] <= cut) & (frame["付款确认时间"] <= cut)]
    target = tmp_path_factory.mktemp("partial") / "jd_orders_20251209.csv"
    kept.to_csv(target, index=False, encoding="gbk")
    return target


def _expected(export: Path, start: str, end: str) -> dict[str, float]:
    """Net sales, orders, AOV and buyers of the orders paid from `start` to `end` (days), from the
    export's own columns: a row per order × product with the order's fields repeated; the status
    words are the preset's (a `*` in a word is a wildcard)."""
    paid_words = load_preset("jd").export["rules"]["status"]["paid"]
    frame = _read_jd(export)
    paid = frame[frame["订单状态"].map(lambda s: any(fnmatch(s, w) for w in paid_words))]
    day = paid["付款确认时间"].str.slice(0, 10)
    paid = paid[(day >= start) & (day <= end)]
    orders = paid.drop_duplicates("订单号")
    amount = orders["应付金额"].str.extract(r"^(-?[\d.]+)")[0].astype(float)  # JD appends a note to some amounts
    refund = pd.to_numeric(orders["退款金额"], errors="coerce").fillna(0.0)
    net = float((amount - refund).sum())
    return {"net_sales": net, "orders": float(len(orders)), "aov": net / len(orders),
            "buyers": float(orders["下单帐号"].nunique())}


def _home_cards(site: Path) -> dict[str, float]:
    html = (site / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'data-metric="(\w+)">.*?data-value="([^"]*)"', html)
    return {metric: float(value) for metric, value in cards if metric in HEADLINE and value}


def _log(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_a_project_from_a_partial_year_export_builds_and_shows_the_exports_figures(partial_export, tmp_path):
    made = _run([*FUPAN, "init", "shop", "--preset", "jd", "--data", str(partial_export), "--company", "测试小店"],
                tmp_path)
    assert made.returncode == 0, _log(made)
    project = tmp_path / "shop"
    # The review year and as_of come from the data, and init says so.
    assert f"as_of {LAST_DAY}" in made.stdout and "before the end of 2025" in made.stdout
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    assert "year: 2025" in config and "compare_year: 2024" in config and f"as_of: {LAST_DAY}" in config
    assert 'company: "测试小店"' in config
    contract = (project / "data" / "datasets.yml").read_text(encoding="utf-8")
    assert "exports:\n  shop:\n    preset: jd\n    path: jd_orders_20251209.csv\n" in contract
    assert sorted(p.name for p in (project / "data").iterdir()) == ["datasets.yml", "jd_orders_20251209.csv"]
    for name in (".gitignore", ".github/workflows/review.yml", "macros/main.py", "macros/hooks.py",
                 "docs/index.md", "docs/about.md", "docs/definitions.md", "requirements.txt",
                 *(f"docs/chapters/{p.name}" for p in (TEMPLATES / "docs" / "chapters").iterdir())):
        assert (project / name).is_file(), name

    built = _run([*FUPAN, "build"], project)
    assert built.returncode == 0, _log(built)[-4000:]
    log = _log(built)
    assert f"the orders end on {LAST_DAY}, before the end of 2025" in log
    assert "not yet written" in log and "docs/chapters/02-overall.md, line 33: 分析师点评（待填写）" in log
    assert "still marked as samples" not in log  # a fresh project holds no sample commentary
    shown = _home_cards(project / "site")
    assert shown == pytest.approx(_expected(partial_export, "2025-01-01", LAST_DAY), abs=0.005)
    about = (project / "site" / "about" / "index.html").read_text(encoding="utf-8")
    slots = len(find_unfinished(project / "docs").unwritten)
    assert f"{slots} 个点评框待填写" in about and "早于 2025 年年末" in about and "仍是示例" not in about

    # The writer fills one slot: the next build's log and about page follow (never a kept output).
    page = project / "docs" / "chapters" / "02-overall.md"
    page.write_text(page.read_text(encoding="utf-8").replace("分析师点评（待填写）", "分析师点评", 1), encoding="utf-8")
    rebuilt = _run([*FUPAN, "build"], project)
    assert rebuilt.returncode == 0, _log(rebuilt)[-4000:]
    assert f"{slots - 1} commentary box(es) not yet written" in _log(rebuilt)
    about = (project / "site" / "about" / "index.html").read_text(encoding="utf-8")
    assert f"{slots - 1} 个点评框待填写" in about


def _readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own review 你自己的复盘", 1)[1].split("\n## ", 1)[0]
    return [c.strip() for c in re.findall(r"```bash\n(.+?)\n\s*```", section, flags=re.S)]


def test_the_readmes_three_commands_make_a_project_that_builds(jd_export, tmp_path):
    install, init, build = _readme_commands()
    assert "pip install" in install and "fupan" in install.split("pip install", 1)[1]
    words = shlex.split(init.replace("~/Downloads/jd_orders.csv", shlex.quote(str(jd_export))))
    assert words[0] == ".venv/bin/fupan" and words[1] == "init"
    made = _run([*FUPAN, *words[1:]], tmp_path)
    assert made.returncode == 0, _log(made)
    assert "review year 2025, compared with 2024" in made.stdout and "as_of" not in made.stdout
    folder, command = re.fullmatch(r"cd (\S+) && \.\./\.venv/bin/fupan (.+)", build).groups()
    project = tmp_path / folder
    assert f"  cd {folder}\n" in made.stdout and "fupan build" in made.stdout  # what init says to do next
    # A writer pastes the sample's box into chapter 2: the log and the about page name it.
    page = project / "docs" / "chapters" / "02-overall.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    lines[3:3] = ['!!! note "分析师点评（示例，请替换）"', "    增长来自抖音渠道。", ""]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    built = _run([*FUPAN, *shlex.split(command)], project)
    assert built.returncode == 0, _log(built)[-4000:]
    log = _log(built)
    assert "1 commentary box(es) still marked as samples" in log
    assert "docs/chapters/02-overall.md, line 4: 分析师点评（示例，请替换）" in log
    assert "the orders end on" not in log  # the export runs to 31 December
    assert _home_cards(project / "site") == pytest.approx(_expected(jd_export, "2025-01-01", "2025-12-31"),
                                                          abs=0.005)
    about = (project / "site" / "about" / "index.html").read_text(encoding="utf-8")
    assert "1 个点评框仍是示例" in about and "chapters/02-overall.md</a>，第 4 行" in about


def test_a_project_without_a_preset_gets_the_canonical_sample_and_builds(tmp_path):
    made = _run([*FUPAN, "init", "plain", "--orders", "3000"], tmp_path)
    assert made.returncode == 0, _log(made)
    project = tmp_path / "plain"
    assert (project / "data" / "datasets.yml").read_bytes() == (REPO / "data" / "datasets.yml").read_bytes()
    assert {"orders.parquet", "order_lines.parquet", "products.csv", "traffic.csv"} <= {
        p.name for p in (project / "data").iterdir()}
    assert 'company: "我的店铺"' in (project / "mkdocs.yml").read_text(encoding="utf-8")
    built = _run([*FUPAN, "build"], project)
    assert built.returncode == 0, _log(built)[-4000:]
    assert (project / "site" / "chapters" / "07-summary" / "index.html").is_file()


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = _run([*FUPAN, "init", str(folder), "--preset", "jd"], tmp_path)
    assert result.returncode == 1
    assert "is not empty (it holds notes.txt)" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_init_names_the_presets_for_an_unknown_one_and_writes_nothing(tmp_path):
    result = _run([*FUPAN, "init", "shop", "--preset", "jingdong"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "jd" in result.stderr and "taobao_orders" in result.stderr
    assert not (tmp_path / "shop").exists()


def test_review_year_rules():
    day = dt.date
    assert review_year(day(2024, 1, 1), day(2025, 12, 31)) == (2025, None, [])
    year, as_of, notes = review_year(day(2024, 1, 1), day(2025, 12, 9))
    assert (year, as_of) == (2025, day(2025, 12, 9)) and "before the end of 2025" in notes[0]
    year, as_of, notes = review_year(day(2024, 1, 1), day(2026, 1, 4))  # the export ran into January
    assert (year, as_of) == (2025, None) and "January" in notes[0]
    assert review_year(day(2026, 1, 1), day(2026, 1, 20))[:2] == (2026, day(2026, 1, 20))  # January is all there is


def test_taobao_orders_and_items_files_are_told_apart_by_their_names():
    exports = _exports_for("taobao_orders", ["ExportOrderDetailList202512.csv", "ExportOrderList202512.csv"])
    assert exports["orders"] == {"preset": "taobao_orders", "path": "ExportOrderList202512.csv", "lines": "items"}
    assert exports["items"] == {"preset": "taobao_items", "path": "ExportOrderDetailList202512.csv"}
    with pytest.raises(InitError, match="needs its"):
        _exports_for("taobao_orders", ["ExportOrderList202512.csv"])


def test_the_project_templates_are_the_repos_own_where_they_mean_the_same():
    """The contract and the macros module and hooks are this repo's (the sample review project)."""
    assert (TEMPLATES / "data" / "datasets.yml").read_bytes() == (REPO / "data" / "datasets.yml").read_bytes()
    assert (TEMPLATES / "macros" / "main.py.tmpl").read_bytes() == (REPO / "macros" / "main.py").read_bytes()
    assert (TEMPLATES / "macros" / "hooks.py.tmpl").read_bytes() == (REPO / "macros" / "hooks.py").read_bytes()


def test_the_templates_chapters_call_the_repos_macros_and_hold_no_sample_commentary():
    """Same chapters, same macro calls in the same order; every commentary box is an empty slot."""
    def calls(text: str) -> list[str]:
        return re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text)

    for page in ["index.md", *(f"chapters/{p.name}" for p in (REPO / "docs" / "chapters").iterdir()
                             if not p.name.endswith(".en.md"))]:
        ours = (TEMPLATES / "docs" / page).read_text(encoding="utf-8")
        repo = (REPO / "docs" / page).read_text(encoding="utf-8")
        boxes = re.sub(r'!!! note "[^"]*"\n(?:    .*\n|\n(?=    ))*', "", repo)  # the sample's boxes and their text
        assert calls(ours) == calls(boxes), page
        assert "示例，请替换" not in ours
        assert ours.count("（待填写）\"") == repo.count("（示例，请替换）\"")
    assert find_unfinished(TEMPLATES / "docs").samples == ()


def test_the_projects_workflow_passes_actionlint(tmp_path):
    workflow = tmp_path / ".github" / "workflows" / "review.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copyfile(TEMPLATES / "github" / "workflows" / "review.yml", workflow)
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    result = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = workflow.read_text(encoding="utf-8")
    for step in ("pip install -r requirements.txt", "fupan build", "actions/upload-pages-artifact",
                 "actions/deploy-pages"):
        assert step in text


def test_reminders_find_sample_and_unwritten_boxes_outside_code_blocks(tmp_path):
    docs = tmp_path / "docs"
    (docs / "chapters").mkdir(parents=True)
    (docs / "index.md").write_text(
        '# 首页\n\n!!! note "分析师点评（示例，请替换）"\n    样例。\n\n'
        '```markdown\n!!! note "分析师点评（示例，请替换）"\n```\n\n'
        '??? tip "Comment (sample, replace)"\n    text\n', encoding="utf-8")
    (docs / "chapters" / "a.md").write_text('# A\n\n!!! note "原因分析（待填写）"\n    \n!!! note "点评"\n    写好了\n',
                                            encoding="utf-8")
    found = find_unfinished(docs)
    assert [(b.page, b.line, b.title) for b in found.samples] == [
        ("index.md", 3, "分析师点评（示例，请替换）"), ("index.md", 10, "Comment (sample, replace)")]
    assert [(b.page, b.line) for b in found.unwritten] == [("chapters/a.md", 3)]


def test_an_export_read_with_the_wrong_preset_fails_naming_the_right_one_and_writes_nothing(jd_export, tmp_path):
    result = _run([*FUPAN, "init", "shop", "--preset", "shopify", "--data", str(jd_export)], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "data/jd_orders.csv" in result.stderr and "`preset: jd`" in result.stderr
    assert not (tmp_path / "shop").exists()
