"""fupan installs as a library: `pip install .` gives a package `fupan` (and no top-level `macros`),
and a second review project, with its own mkdocs.yml, docs/, data/ and a few-line macros module,
builds against the installed package without importing anything from this repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import SOURCE_DATE_EPOCH
from tiny import write_tiny_data

REPO = Path(__file__).resolve().parents[1]

PROJECT_MKDOCS = """\
site_name: 小店 2025 年复盘
theme:
  name: material
  language: zh
  font: false
plugins:
  - search
  - macros:
      module_name: macros/main
      on_error_fail: true
      on_undefined: strict
hooks:
  - macros/hooks.py
extra:
  review:
    company: 小店
    year: 2025
    compare_year: 2024
"""

# The shop's own macros module: fupan's macros plus one of its own.
PROJECT_MAIN = """\
from pathlib import Path

import fupan
from fupan.site.plugin import define_env as fupan_define_env
from fupan.site.plugin import on_post_build, on_post_page_macros, on_pre_page_macros  # noqa: F401


def define_env(env):
    fupan_define_env(env)
    Path(env.conf["config_file_path"]).with_name("fupan-location.txt").write_text(fupan.__file__)

    @env.macro
    def motto():
        return "小而美"
"""

PROJECT_HOOKS = """\
from fupan.site.hooks import on_config, on_env, on_files, on_page_content, on_post_build, on_post_page  # noqa: F401
"""

PROJECT_PAGE = """\
# 复盘

净销售额 NS={{ value("net_sales", period=2025) }}；{{ motto() }}
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install .` (not editable) of a copy of this repository's package.

    The package's dependencies are taken from the test's own environment (a .pth file after the
    venv's own site-packages) so no wheel is downloaded or compiled; fupan itself is built and
    installed from a copy of the source, so the repository is not written to.
    """
    root = tmp_path_factory.mktemp("pkg")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "macros", source / "macros", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(source)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return venv


def _purelib(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def test_pip_install_gives_package_fupan_and_no_top_level_macros(installed: Path, tmp_path: Path) -> None:
    site = _purelib(installed)
    assert (site / "fupan" / "__init__.py").is_file()
    assert not (site / "macros").exists()
    # The catalogue and the site's assets are package data: a build needs them.
    assert (site / "fupan" / "semantics" / "metrics.yml").is_file()
    assert (site / "fupan" / "assets" / "fupan.css").is_file()
    assert {p.name for p in (site / "fupan" / "presentation" / "locales").glob("*.yml")} == {"zh-CN.yml", "en.yml"}
    probe = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import importlib.util, fupan; print(fupan.__file__); print(importlib.util.find_spec('macros'))"],
        cwd=tmp_path, capture_output=True, text=True, check=True)
    location, macros_spec = probe.stdout.splitlines()
    assert Path(location).is_relative_to(site)
    assert macros_spec == "None"


def test_a_second_review_project_builds_against_the_installed_package(installed: Path, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "docs").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "mkdocs.yml").write_text(PROJECT_MKDOCS, encoding="utf-8")
    (project / "macros" / "main.py").write_text(PROJECT_MAIN, encoding="utf-8")
    (project / "macros" / "hooks.py").write_text(PROJECT_HOOKS, encoding="utf-8")
    (project / "docs" / "index.md").write_text(PROJECT_PAGE, encoding="utf-8")
    write_tiny_data(project / "data")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FUPAN_SITE_URL")}
    env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    result = subprocess.run([str(installed / "bin" / "python"), "-m", "mkdocs", "build", "--strict", "-d", "site"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    used = Path((project / "fupan-location.txt").read_text())
    assert used.is_relative_to(_purelib(installed))
    assert not used.is_relative_to(REPO)
    html = (project / "site" / "index.html").read_text(encoding="utf-8")
    # 2025 net sales of the tiny shop, by hand: GMV 216 − refunds 10 = 206 (tests/tiny.py).
    shown = re.search(r"NS=<a [^>]*data-metric=\"net_sales\"[^>]*>([^<]+)</a>", html)
    assert shown is not None, html[:2000]
    assert re.sub(r"[^\d.]", "", shown.group(1)) in ("206", "206.00")
    assert "小而美" in html
