"""The `fupan` command: check, build (swap on success), links; serve's code reload."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tiny import make_project

REPO = Path(__file__).resolve().parents[1]


def _fupan(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fupan", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})


def test_check_passes_on_good_data_and_fails_on_bad(tmp_path):
    project = make_project(tmp_path / "p")
    ok = _fupan(project, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s)" in ok.stdout
    products = project / "data" / "products.csv"
    products.write_text(products.read_text(encoding="utf-8").replace(",10,", ",十元,", 1), encoding="utf-8")
    bad = _fupan(project, "check")
    assert bad.returncode == 1
    assert "data/products.csv, row 2, column 标价 (list_price): value '十元'" in bad.stdout


def test_build_swaps_the_new_site_in_and_links_are_whole(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "site").mkdir()
    (project / "site" / "stale.html").write_text("old", encoding="utf-8")
    result = _fupan(project, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "site" / "index.html").exists()
    assert not (project / "site" / "stale.html").exists()  # replaced whole, not merged
    assert not list(project.glob(".fupan-build-*")) and not (project / "site.old").exists()
    links = _fupan(project, "links", "site")
    assert links.returncode == 0, links.stdout
    assert "0 broken internal link(s)" in links.stdout


